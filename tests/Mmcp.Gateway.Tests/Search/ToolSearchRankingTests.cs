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

    /// <summary>A tool's action is its name's first verb (the server's own words skipped; "all" is no action in a name); the rest of its name is its object, in the exact form.</summary>
    [Theory]
    [Trait("Issue12", "7")]
    [InlineData("github__list_pull_requests", "List", "pull requests")]
    [InlineData("github__get_pull_request", "Get", "pull request")]
    [InlineData("slack__slack_post_message", "Create", "message")]
    [InlineData("atlassian__jira_get_all_projects", "Get", "jira projects")]
    [InlineData("memory__read_graph", "Get", "graph")]
    [InlineData("kubernetes__pods_list_in_namespace", "List", "pods in namespace")]
    public void OfTool_Name_IsItsFirstVerbAndItsObjectWords(string name, string action, string objectWords)
    {
        var intent = ToolSearchIntent.OfTool(name);

        Assert.Equal(action, intent.Action.ToString());
        Assert.Equal(objectWords, string.Join(' ', intent.ObjectWords));
    }

    /// <summary>A request's action is the first verb among its first three words; "all", "every" and "which" ask for a list; a request without a verb there has none.</summary>
    [Theory]
    [Trait("Issue12", "7")]
    [InlineData("list the open pull requests in facebook/react", "List")]
    [InlineData("which pods are running in staging", "List")]
    [InlineData("please delete the draft", "Delete")]
    [InlineData("close issue 123", "Update")]
    [InlineData("find the budget spreadsheet", "Search")]
    [InlineData("Alice works at Acme, update that", "None")]
    public void OfRequest_Query_IsItsLeadingVerbsAction(string query, string action)
    {
        Assert.Equal(action, ToolSearchIntent.OfRequest(query).Action.ToString());
    }

    /// <summary>With the action feature, of two tools the embeddings cannot tell apart the one whose verb is the request's ranks first; without it they tie (and go by name).</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public async Task SearchAsync_ActionWeight_RanksTheToolWithTheRequestsVerbFirst()
    {
        CatalogTool[] tools = [Tool("gh__get_pull_request", "A pull request."), Tool("gh__list_pull_requests", "Pull requests.")];
        var only = ToolSearchRanking.Default with { LexicalWeight = 0, ObjectWordWeight = 0, ClashWeight = 0 };

        var with = await RankAsync(tools, "list the open ones", only);
        var without = await RankAsync(tools, "list the open ones", only with { ActionWeight = 0 });

        Assert.Equal(["gh__list_pull_requests", "gh__get_pull_request"], with);
        Assert.Equal(["gh__get_pull_request", "gh__list_pull_requests"], without);
    }

    /// <summary>With the clash feature, a tool that only reads ranks below one of no known action when the request changes something; without it they tie.</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public async Task SearchAsync_ClashWeight_RanksAReadingToolBelowForAWriteRequest()
    {
        CatalogTool[] tools = [Tool("wiki__read_page", "A page."), Tool("wiki__zap_page", "A page.")];
        var only = ToolSearchRanking.Default with { LexicalWeight = 0, ObjectWordWeight = 0, ActionWeight = 0 };

        var with = await RankAsync(tools, "delete the page", only);
        var without = await RankAsync(tools, "delete the page", only with { ClashWeight = 0 });

        Assert.Equal(["wiki__zap_page", "wiki__read_page"], with);
        Assert.Equal(["wiki__read_page", "wiki__zap_page"], without);
    }

    /// <summary>With the object-word feature, the tool whose name's words the request has in the exact form (plural stays plural) ranks first; without it they tie.</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public async Task SearchAsync_ObjectWordWeight_RanksTheExactPluralFirst()
    {
        CatalogTool[] tools = [Tool("gh__get_pull_request", "A pull request."), Tool("gh__list_pull_requests", "Pull requests.")];
        var only = ToolSearchRanking.Default with { LexicalWeight = 0, ActionWeight = 0, ClashWeight = 0 };

        var with = await RankAsync(tools, "the pull requests of react", only);
        var without = await RankAsync(tools, "the pull requests of react", only with { ObjectWordWeight = 0 });

        Assert.Equal(["gh__list_pull_requests", "gh__get_pull_request"], with);
        Assert.Equal(["gh__get_pull_request", "gh__list_pull_requests"], without);
    }

    /// <summary>The request is embedded after the model's query instruction; the tools' texts are embedded as they are.</summary>
    [Fact]
    [Trait("Issue12", "7")]
    public async Task SearchAsync_EmbedderWithQueryPrefix_PrefixesTheRequestOnly()
    {
        var embedder = new SameVectorEmbedder("query: ");
        CatalogTool[] tools = [Tool("fs__read_file", "Read a file.")];

        await new ToolSearchEngine(embedder, cache: null).SearchAsync(tools, "remember that Alice likes tea", 3, TestContext.Current.CancellationToken);

        Assert.Contains("query: remember that Alice likes tea", embedder.Texts);
        Assert.Contains("fs read file. Read a file.", embedder.Texts);
        Assert.DoesNotContain("query: fs read file. Read a file.", embedder.Texts);
    }

    private static async Task<string[]> RankAsync(CatalogTool[] tools, string query, ToolSearchRanking ranking)
    {
        var engine = new ToolSearchEngine(new SameVectorEmbedder(""), cache: null) { Ranking = ranking };
        var hits = await engine.SearchAsync(tools, query, 10, TestContext.Current.CancellationToken);
        return [.. hits.Select(h => h.Tool.Name)];
    }

    private static CatalogTool Tool(string name, string description) =>
        new(name, name.Split("__")[0], new Tool { Name = name.Split("__")[1], Description = description, InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement.Clone() }, "h");

    // Gives every text the same vector, so the embeddings cannot tell tools apart and the other features decide.
    private sealed class SameVectorEmbedder(string queryPrefix) : IToolEmbedder
    {
        public List<string> Texts { get; } = [];

        public string ModelId => "same";

        public int Dimensions => 4;

        public string QueryPrefix => queryPrefix;

        public float[][] Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken)
        {
            Texts.AddRange(texts);
            return [.. texts.Select(_ => new[] { 1f, 0f, 0f, 0f })];
        }
    }
}
