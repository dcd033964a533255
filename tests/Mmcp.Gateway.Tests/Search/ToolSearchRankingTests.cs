using System.Text.Json;
using Mmcp.Gateway.Aggregation;
using Mmcp.Gateway.Search;
using ModelContextProtocol.Protocol;

namespace Mmcp.Gateway.Tests.Search;

/// <summary>The ranking features of tool search, one at a time: each test fails when its feature is turned off.</summary>
public sealed class ToolSearchRankingTests
{
    /// <summary>The stemmer brings the forms of a word to one stem.</summary>
    [Theory]
    [Trait("Issue12", "7")]
    [InlineData("create", "creates", "created", "creating")]
    [InlineData("edit", "edits", "edited", "editing")]
    [InlineData("stop", "stops", "stopped", "stopping")]
    [InlineData("directory", "directories", "directory", "directory")]
    [InlineData("branch", "branches", "branch", "branch")]
    public void Stem_FormsOfOneWord_MeetAtOneStem(string word, string form1, string form2, string form3)
    {
        var stem = ToolSearchText.Stem(word);

        Assert.Equal([stem, stem, stem], new[] { ToolSearchText.Stem(form1), ToolSearchText.Stem(form2), ToolSearchText.Stem(form3) });
    }

    /// <summary>With stems, a request word finds another form of it in a definition; without, nothing matches.</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public void Bm25_Stems_FindOtherFormsOfARequestWord()
    {
        CatalogTool[] tools = [Tool("fs__patch_file", "Applies edits to a file."), Tool("fs__read_file", "Reads a file.")];

        var stemmed = new ToolSearchIndex(tools).Search("editing", 3);
        var plain = new ToolSearchIndex(tools, ToolSearchIndexOptions.Default with { Stems = false, SynonymWeight = 0 }).Search("editing", 3);

        Assert.Equal("fs__patch_file", Assert.Single(stemmed).Tool.Name);
        Assert.Empty(plain);
    }

    /// <summary>A request's verbs and nouns also look for their synonyms ("make a folder" finds create_directory); without synonyms nothing matches.</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public void Bm25_Synonyms_FindADefinitionInOtherWords()
    {
        CatalogTool[] tools = [Tool("fs__create_directory", "Create a new directory."), Tool("fs__read_file", "Read a file.")];

        var expanded = new ToolSearchIndex(tools).Search("make a folder", 3);
        var plain = new ToolSearchIndex(tools, ToolSearchIndexOptions.Default with { SynonymWeight = 0 }).Search("make a folder", 3);

        Assert.Equal("fs__create_directory", Assert.Single(expanded).Tool.Name);
        Assert.Empty(plain);
    }

    /// <summary>A synonym counts less than the request's own word, so the tool named with the request's word ranks first.</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public void Bm25_SynonymWeight_RanksTheRequestsOwnWordFirst()
    {
        CatalogTool[] tools = [Tool("fs__delete_file", "Delete a file."), Tool("fs__remove_file", "Remove a file.")];

        var hits = new ToolSearchIndex(tools).Search("remove the file", 3);
        var equal = new ToolSearchIndex(tools, ToolSearchIndexOptions.Default with { SynonymWeight = 1 }).Search("remove the file", 3);

        Assert.Equal(["fs__remove_file", "fs__delete_file"], hits.Select(h => h.Tool.Name));
        Assert.True(hits[0].Score > hits[1].Score);
        Assert.Equal(equal[0].Score, equal[1].Score, 9);
    }

    /// <summary>The head of a request is its words before the first preposition or "that" (the action); a request that is all action has none.</summary>
    [Theory]
    [Trait("Issue12", "7")]
    [InlineData("remember that Alice likes tea", "remember")]
    [InlineData("stop the redis container", null)]
    [InlineData("send a message to #general saying hi", "send a message")]
    public void HeadOf_Request_IsTheActionWithoutDetails(string query, string? head)
    {
        Assert.Equal(head, ToolSearchEngine.HeadOf(query));
    }

    /// <summary>By default a tool is embedded as its full text and its server's name; the name alone only with the name-vector feature on.</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public void TextsOf_DefaultRanking_EmbedsFullTextAndServerOnly()
    {
        var tool = Tool("local_files__create_directory", "Create a new directory.");

        var texts = ToolSearchEngine.TextsOf(tool.Name, tool.Tool, ToolSearchRanking.Default);
        var withName = ToolSearchEngine.TextsOf(tool.Name, tool.Tool, ToolSearchRanking.Default with { NameVector = true });

        Assert.Equal("local files create directory. Create a new directory.", texts.Full);
        Assert.Equal("local files", texts.Server);
        Assert.Null(texts.Name);
        Assert.Equal("local files create directory", withName.Name);
    }

    /// <summary>Without embeddings the engine ranks with the ranking's BM25 options (stems and synonyms on by default).</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public async Task SearchAsync_WithoutEmbeddings_UsesTheRankingsLexicalOptions()
    {
        CatalogTool[] tools = [Tool("fs__create_directory", "Create a new directory."), Tool("fs__read_file", "Read a file.")];
        var ct = TestContext.Current.CancellationToken;

        var hits = await new ToolSearchEngine(embedder: null, cache: null).SearchAsync(tools, "make a folder", 3, ct);
        var plain = await new ToolSearchEngine(embedder: null, cache: null) { Ranking = ToolSearchRanking.Default with { Lexical = ToolSearchIndexOptions.Default with { SynonymWeight = 0 } } }.SearchAsync(tools, "make a folder", 3, ct);

        Assert.Equal("fs__create_directory", Assert.Single(hits).Tool.Name);
        Assert.Empty(plain);
    }

    private static CatalogTool Tool(string name, string description) =>
        new(name, name.Split("__")[0], new Tool { Name = name.Split("__")[1], Description = description, InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement.Clone() }, "h");
}
