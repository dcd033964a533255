using Atlas.Desktop.Chat.Conversations;
using Atlas.Desktop.Chat.Generations;
using Atlas.Desktop.Chat.Llm;
using Atlas.Desktop.Chat.Tools;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Atlas.Desktop.Chat;

/// <summary>Registers the chat feature (options are bound and validated with the rest of <c>Atlas</c>).</summary>
internal static class ChatServiceCollectionExtensions
{
    public static IServiceCollection AddAtlasChat(this IServiceCollection services)
    {
        services.TryAddSingleton<IConversationStore, SqliteConversationStore>();
        services.TryAddSingleton<IChatToolProvider, NoChatTools>();
        services.AddSingleton<LlmClientFactory>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<ChatBroadcaster>();
        services.AddSingleton<ChatLimiter>();
        services.AddSingleton<GenerationRunner>();
        services.AddSingleton<GenerationManager>();
        services.AddHostedService(sp => sp.GetRequiredService<GenerationManager>());
        services.AddSingleton<TurnBuilder>();
        services.AddSingleton<ChatSender>();
        services.AddSingleton<ConversationRequests>();
        services.TryAddSingleton<IChatService, ChatService>();
        return services;
    }
}
