using System.Net;
using Atlas.Client.Pairing;

namespace Atlas.Client.Tests.Pairing;

public sealed class PairingLinkTests
{
    private const string Ticket = "GelWBAXedLvWLnezewupSm-wjvukyS2L7fbURuUnZTo";
    private const string Pin = "nUiXTXmwkdf_oUAwNru2RVpZKSVQsxVBBiFzoXVQ3lI";

    [Fact]
    public void FormatThenParse_RoundTrips()
    {
        var expires = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var text = PairingLink.Format(new Uri("https://192.168.1.23:47321/"), Ticket, Pin, expires, "Desk & Co");
        Assert.Equal($"https://192.168.1.23:47321/pair#v=1&t={Ticket}&fp={Pin}&exp=1800000000&n=Desk%20%26%20Co", text);
        var link = PairingLink.Parse(text);
        Assert.Equal(new Uri("https://192.168.1.23:47321/"), link.BaseUri);
        Assert.Equal((Ticket, Pin, expires, "Desk & Co"), (link.Ticket, link.Fingerprint, link.ExpiresAt, link.DesktopName));
    }

    [Theory]
    [InlineData("http://192.168.1.23:47321/pair#v=1&t=T&fp=P&exp=1", "https://")]
    [InlineData("javascript:alert(1)", "https://")]
    [InlineData("file:///etc/passwd", "https://")]
    [InlineData("https://192.168.1.23:47321/other#v=1&t=T&fp=P&exp=1", "/pair")]
    [InlineData("https://192.168.1.23:47321/pair?x=1#v=1&t=T&fp=P&exp=1", "/pair")]
    [InlineData("https://user@192.168.1.23:47321/pair#v=1&t=T&fp=P&exp=1", "/pair")]
    [InlineData("https://8.8.8.8:47321/pair#v=1&t=T&fp=P&exp=1", "not a loopback or private")]
    [InlineData("https://192.168.1.23:47321/pair#v=999&t=T&fp=P&exp=1", "version")]
    [InlineData("https://192.168.1.23:47321/pair#t=T&fp=P&exp=1", "version")]
    [InlineData("https://192.168.1.23:47321/pair#v=1&t=short&fp=P&exp=1", "ticket")]
    [InlineData("https://192.168.1.23:47321/pair#v=1&t=T&fp=nope&exp=1", "fingerprint")]
    [InlineData("https://192.168.1.23:47321/pair#v=1&t=T&fp=P&exp=soon", "expiry")]
    [InlineData("https://192.168.1.23:47321/pair#v=1&t=T&fp=P&exp=1&t=T", "twice")]
    [InlineData("https://192.168.1.23:47321/pair#v=1&t=T&fp=P&exp=1&n=a%26t%3DX&t=T", "twice")]
    [InlineData("https://192.168.1.23:47321/pair#v=1&t=T&fp=P&exp=1&n=%0Aevil", "control")]
    [InlineData("", "empty")]
    public void Parse_BadLinks_AreRefusedWithReason(string text, string reason)
    {
        text = text.Replace("t=T", "t=" + Ticket, StringComparison.Ordinal).Replace("fp=P", "fp=" + Pin, StringComparison.Ordinal);
        Assert.False(PairingLink.TryParse(text, out var link, out var error));
        Assert.Null(link);
        Assert.Contains(reason, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Parse_HugeLink_IsRefused()
    {
        var huge = $"https://192.168.1.23:47321/pair#v=1&t={Ticket}&fp={Pin}&exp=1&a=" + string.Join(",", Enumerable.Repeat("10.0.0.1:1", 10_000));
        Assert.False(PairingLink.TryParse(huge, out _, out var error));
        Assert.Contains("longer than", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownFields_AreIgnored() =>
        Assert.True(PairingLink.TryParse($"https://[fd00::2]:47321/pair#v=1&t={Ticket}&fp={Pin}&exp=1&future=1", out _, out _));

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.255.255", true)]
    [InlineData("192.169.0.1", false)]
    [InlineData("169.254.0.1", true)]
    [InlineData("100.64.0.1", false)]
    [InlineData("fc00::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("2001:db8::1", false)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("1.1.1.1", false)]
    public void AddressRanges_ClassifyPrivateAndPublic(string address, bool expected) =>
        Assert.Equal(expected, AddressRanges.IsLocalOrPrivate(IPAddress.Parse(address)));

    [Fact]
    public void AddressRanges_Cgnat_OnlyWhenAllowed() =>
        Assert.True(AddressRanges.IsLocalOrPrivate(IPAddress.Parse("100.100.1.1"), allowCgnat: true));

    [Fact]
    public void CheckCode_IsSixStableDigits_AndDependsOnEveryInput()
    {
        var code = CheckCode.Compute(Pin, Ticket, "nonce");
        Assert.Matches("^[0-9]{6}$", code);
        Assert.Equal(code, CheckCode.Compute(Pin, Ticket, "nonce"));
        Assert.NotEqual(code, CheckCode.Compute(Pin, Ticket, "other"));
        Assert.NotEqual(code, CheckCode.Compute(Ticket, Pin, "nonce"));
    }
}
