using Atlas.Desktop.Hosting;
using Atlas.Desktop.Storage;
using Microsoft.Extensions.Options;

namespace Atlas.Desktop.Admin;

/// <summary>The admin UI's LLM card: whether chat can answer (a key for OpenRouter, or an OpenAI-compatible endpoint),
/// which provider and default model, the last failed answer, and what answers cost, today and in total, as the chat
/// pipeline recorded it with each answer (tokens always, cost when the provider reports one, as OpenRouter does).
/// Answers of deleted conversations no longer count.</summary>
internal static class AdminLlm
{
    public static void MapAdminLlm(this RouteGroupBuilder api) =>
        api.MapGet("/llm", async (IOptions<AtlasOptions> options, AtlasDatabase database, AtlasTime time, CancellationToken cancellationToken) =>
            Results.Json(await ViewAsync(options.Value.Llm, database, time.Provider, cancellationToken).ConfigureAwait(false), AdminJsonContext.Default.LlmView));

    internal static async Task<LlmView> ViewAsync(LlmOptions llm, AtlasDatabase database, TimeProvider time, CancellationToken cancellationToken)
    {
        var local = time.GetLocalNow();
        var midnight = new DateTimeOffset(local.Date, local.Offset);
        await using var connection = await database.OpenAsync(cancellationToken).ConfigureAwait(false);

        async Task<LlmSpendView> SpendAsync(long since)
        {
            await using var command = Sql.Command(connection,
                """
                SELECT COUNT(*), COALESCE(SUM(total_tokens), 0), SUM(CAST(cost AS REAL)) FROM messages
                WHERE role = 'assistant' AND completed_at IS NOT NULL AND completed_at >= $since
                """, ("$since", since));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return new LlmSpendView(reader.GetInt32(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : Math.Round(reader.GetDouble(2), 6));
        }

        var today = await SpendAsync(midnight.ToUnixTimeMilliseconds()).ConfigureAwait(false);
        var total = await SpendAsync(0).ConfigureAwait(false);

        LlmErrorView? lastError = null;
        await using (var command = Sql.Command(connection,
            "SELECT error_code, error_message, completed_at, model FROM messages WHERE status = 'error' AND completed_at IS NOT NULL ORDER BY completed_at DESC LIMIT 1"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                lastError = new LlmErrorView(reader.IsDBNull(0) ? "error" : reader.GetString(0), reader.IsDBNull(1) ? "" : reader.GetString(1),
                    Sql.FromMs(reader.GetInt64(2)), reader.IsDBNull(3) ? null : reader.GetString(3));
            }
        }

        DateTimeOffset? lastAnswerAt = null;
        await using (var command = Sql.Command(connection,
            "SELECT MAX(completed_at) FROM messages WHERE role = 'assistant' AND status = 'done'"))
        {
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long ms)
            {
                lastAnswerAt = Sql.FromMs(ms);
            }
        }

        var endpoint = Uri.TryCreate(llm.BaseUrl, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}{uri.AbsolutePath}" : llm.BaseUrl;
        return new LlmView(llm.IsConfigured, llm.IsOpenRouter ? "openrouter" : "openai-compatible", endpoint, llm.Model,
            llm.IsConfigured ? null : "Set OPENROUTER_API_KEY (or Atlas:Llm:ApiKey) and restart atlas, or point Atlas:Llm:BaseUrl at an OpenAI-compatible server such as Ollama.",
            lastError, lastAnswerAt, today, total);
    }
}
