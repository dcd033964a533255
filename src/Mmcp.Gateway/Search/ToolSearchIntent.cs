using System.Collections.Frozen;

namespace Mmcp.Gateway.Search;

/// <summary>
/// What a request asks to do and what a tool does, from a small table of general English verbs: the action of the
/// request's leading verb against the action of the first verb in the tool's name ("list the open pull requests"
/// and <c>list_pull_requests</c>: both List), and the words of the tool's name that are not verbs (its object, in the
/// exact form: "requests" matches <c>list_pull_requests</c>, not <c>get_pull_request</c>). Near neighbours on one
/// server differ mostly in these two things, which a sentence embedding of the whole definition blurs.
/// </summary>
internal static class ToolSearchIntent
{
    // Each verb belongs to the first action that lists it. General verbs only: no tool's or service's name.
    private static readonly (ToolAction Action, string Verbs)[] Table =
    [
        (ToolAction.Create, "create make new add write save insert post send schedule generate upload put open start build register"),
        (ToolAction.Get, "get read show fetch view display describe look see check retrieve download"),
        (ToolAction.List, "list enumerate all every which"),
        (ToolAction.Search, "search find query lookup locate"),
        (ToolAction.Update, "update edit modify change rename move replace set close mark patch assign"),
        (ToolAction.Delete, "delete remove drop erase clear destroy cancel"),
        (ToolAction.Run, "run execute launch trigger invoke"),
    ];

    // Words that ask for a list in a request ("all the", "which pods") but are no action in a tool's name (get_all_projects is a Get).
    private static readonly FrozenSet<string> RequestOnly = FrozenSet.Create(StringComparer.Ordinal, "all", "every", "which");

    private static readonly FrozenDictionary<string, ToolAction> Verbs = BuildVerbs();

    /// <summary>How many of a request's first words are looked at for its verb ("please list…", "show me all…").</summary>
    private const int VerbWindow = 3;

    /// <summary>The action of a verb in the table, or <see cref="ToolAction.None"/>.</summary>
    public static ToolAction ActionOf(string word) => Verbs.GetValueOrDefault(word);

    /// <summary>A tool's action (its name's first verb, the server's own words skipped) and the other words of its name.</summary>
    public static ToolIntent OfTool(string name)
    {
        var separator = name.IndexOf("__", StringComparison.Ordinal);
        var server = separator > 0 ? ToolSearchText.Words(name[..separator]).Split(' ') : [];
        var own = ToolSearchText.Words(separator > 0 ? name[(separator + 2)..] : name).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var words = own.Where(w => !server.Contains(w, StringComparer.Ordinal)).ToArray();
        if (words.Length == 0)
        {
            words = own;
        }

        var action = words.Select(w => RequestOnly.Contains(w) ? ToolAction.None : ActionOf(w)).FirstOrDefault(a => a != ToolAction.None);
        if (action == ToolAction.None)
        {
            action = words.Select(ActionOf).FirstOrDefault(a => a != ToolAction.None);
        }

        return new ToolIntent(action, [.. words.Where(w => ActionOf(w) == ToolAction.None)]);
    }

    /// <summary>A request's action (the first verb among its first words) and all its words, in the exact form.</summary>
    public static RequestIntent OfRequest(string query)
    {
        var words = ToolSearchText.Words(query).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var action = words.Take(VerbWindow).Select(ActionOf).FirstOrDefault(a => a != ToolAction.None);
        return new RequestIntent(action, words.ToFrozenSet(StringComparer.Ordinal));
    }

    /// <summary>Whether both actions are known and equal (a request to list and a tool that lists).</summary>
    public static bool SameAction(RequestIntent request, ToolIntent tool) => request.Action != ToolAction.None && request.Action == tool.Action;

    /// <summary>Whether both actions are known and one changes something (create, update, delete, run) while the other only reads.</summary>
    public static bool WriteReadClash(RequestIntent request, ToolIntent tool) =>
        request.Action != ToolAction.None && tool.Action != ToolAction.None && IsWrite(request.Action) != IsWrite(tool.Action);

    /// <summary>The share of the tool name's non-verb words found in the request in the exact form (plural stays plural).</summary>
    public static double ObjectWordsFound(RequestIntent request, ToolIntent tool)
    {
        if (tool.ObjectWords.Length == 0)
        {
            return 0;
        }

        var found = 0;
        foreach (var word in tool.ObjectWords)
        {
            found += request.Words.Contains(word) ? 1 : 0;
        }

        return (double)found / tool.ObjectWords.Length;
    }

    private static bool IsWrite(ToolAction action) => action is ToolAction.Create or ToolAction.Update or ToolAction.Delete or ToolAction.Run;

    private static FrozenDictionary<string, ToolAction> BuildVerbs()
    {
        var map = new Dictionary<string, ToolAction>(StringComparer.Ordinal);
        foreach (var (action, verbs) in Table)
        {
            foreach (var verb in verbs.Split(' '))
            {
                map.TryAdd(verb, action);
            }
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

/// <summary>What a request or a tool does, in the coarse classes of <see cref="ToolSearchIntent"/>.</summary>
internal enum ToolAction
{
    /// <summary>No verb of the table.</summary>
    None,

    /// <summary>Makes something new (create, add, send, upload…).</summary>
    Create,

    /// <summary>Reads one thing (get, read, show…).</summary>
    Get,

    /// <summary>Lists things (list; in a request also "all", "every", "which").</summary>
    List,

    /// <summary>Searches (search, find, query…).</summary>
    Search,

    /// <summary>Changes something (update, edit, move, close…).</summary>
    Update,

    /// <summary>Removes something (delete, remove, cancel…).</summary>
    Delete,

    /// <summary>Runs something (run, execute, trigger…).</summary>
    Run,
}

/// <summary>A tool's action and the other words of its name (<see cref="ToolSearchIntent.OfTool"/>).</summary>
internal sealed record ToolIntent(ToolAction Action, string[] ObjectWords);

/// <summary>A request's action and its words (<see cref="ToolSearchIntent.OfRequest"/>).</summary>
internal sealed record RequestIntent(ToolAction Action, FrozenSet<string> Words);
