namespace Mmcp.Core.Tests;

public sealed class PlaceholderTests
{
    [Fact]
    public void One_IsOne() => Assert.Equal(1, Placeholder.One);
}
