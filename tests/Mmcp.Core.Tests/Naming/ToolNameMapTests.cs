using Mmcp.Core.Naming;

namespace Mmcp.Core.Tests.Naming;

public sealed class ToolNameMapTests
{
    private static QualifiedToolName T(string server, string tool) => new(server, tool);

    [Fact]
    public void Create_SimpleNames_JoinsWithDoubleUnderscore()
    {
        var map = ToolNameMap.Create([T("io.mmcp.files", "list_files"), T("everything", "echo")]);

        Assert.Equal("io_mmcp_files__list_files", map.GetExposedName("io.mmcp.files", "list_files"));
        Assert.Equal("everything__echo", map.GetExposedName("everything", "echo"));
        Assert.True(map.TryResolve("io_mmcp_files__list_files", out var resolved));
        Assert.Equal(T("io.mmcp.files", "list_files"), resolved);
    }

    [Fact]
    public void Create_ToolNameWithDots_IsSanitized()
    {
        var map = ToolNameMap.Create([T("srv", "files.read")]);

        Assert.Equal("srv__files_read", map.GetExposedName("srv", "files.read"));
    }

    [Fact]
    public void Create_ServerIdStartingWithADigit_StartsWithALetter()
    {
        var name = ToolNameMap.Create([T("1password", "get")]).GetExposedName("1password", "get")!;

        Assert.Equal("s1password__get", name);
    }

    [Fact]
    public void Create_CollidingNames_BothSurviveAndTheFirstInSortOrderKeepsThePlainName()
    {
        // "a.b" and "a_b" both sanitize to "a_b".
        var map = ToolNameMap.Create([T("srv.x", "a.b"), T("srv.x", "a_b"), T("srv_x", "a_b")]);

        Assert.Equal(3, map.Count);
        Assert.Equal("srv_x__a_b", map.GetExposedName("srv.x", "a.b"));
        var second = map.GetExposedName("srv.x", "a_b")!;
        var third = map.GetExposedName("srv_x", "a_b")!;
        Assert.NotEqual(second, third);
        Assert.Matches("^srv_x__a_b_[0-9a-f]{6}$", second);
        Assert.True(map.TryResolve(second, out var r2) && r2 == T("srv.x", "a_b"));
        Assert.True(map.TryResolve(third, out var r3) && r3 == T("srv_x", "a_b"));
    }

    [Fact]
    public void Create_IsIndependentOfInputOrder()
    {
        QualifiedToolName[] tools = [T("a.b", "x"), T("a_b", "x"), T("c", "y"), T("c", "y.z"), T("c", "y_z")];

        var forward = ToolNameMap.Create(tools).Entries.ToList();
        var backward = ToolNameMap.Create(tools.Reverse()).Entries.ToList();

        Assert.Equal(forward, backward);
    }

    [Fact]
    public void Create_LongNames_StayWithin64AndDistinct()
    {
        var server = "com.example." + new string('s', 70);
        var tools = Enumerable.Range(0, 20).Select(i => T(server, new string('t', 60) + i)).ToList();

        var map = ToolNameMap.Create(tools);

        Assert.Equal(20, map.Count);
        foreach (var tool in tools)
        {
            var name = map.GetExposedName(tool.ServerId, tool.ToolName)!;
            Assert.True(ToolNameMap.IsValidFunctionName(name), name);
            Assert.True(map.TryResolve(name, out var back) && back == tool);
        }
    }

    [Fact]
    public void Create_RandomInputs_AlwaysValidUniqueAndReversible()
    {
        var random = new Random(1234);
        const string Alphabet = "abcAB._-019";
        string Word(int max) => new([.. Enumerable.Range(0, random.Next(1, max)).Select(_ => Alphabet[random.Next(Alphabet.Length)])]);
        var tools = Enumerable.Range(0, 2000).Select(_ => T(Word(90), Word(130))).Distinct().ToList();

        var map = ToolNameMap.Create(tools);

        Assert.Equal(tools.Count, map.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tool in tools)
        {
            var name = map.GetExposedName(tool.ServerId, tool.ToolName)!;
            Assert.True(ToolNameMap.IsValidFunctionName(name), name);
            Assert.True(char.IsAsciiLetter(name[0]), name);
            Assert.True(names.Add(name));
            Assert.True(map.TryResolve(name, out var back) && back == tool);
        }
    }

    [Fact]
    public void TryResolve_UnknownName_ReturnsFalse()
    {
        Assert.False(ToolNameMap.Create([T("a", "b")]).TryResolve("a__c", out _));
    }

    [Theory]
    [InlineData("ok_name-1", true)]
    [InlineData("has.dot", false)]
    [InlineData("", false)]
    [InlineData("sp ace", false)]
    public void IsValidFunctionName_FollowsTheOpenAiRule(string name, bool expected) => Assert.Equal(expected, ToolNameMap.IsValidFunctionName(name));
}
