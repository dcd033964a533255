using System.ClientModel;
using Microsoft.Extensions.AI;
using Mmcp.Client;
using OpenAI;

// An LLM app on this computer: every MCP server the hub discovers (installed Mmcp apps, Claude Desktop, VS Code and
// Cursor servers) becomes a tool the model can call, with no configuration.
await using var hub = MmcpHub.Create();
if (args is ["--direct", ..])
{
    return await LlmApp.DirectCalls.RunAsync(hub);
}

var tools = await hub.GetAIFunctionsAsync();
Console.WriteLine($"{tools.Count} tools from the hub:");
foreach (var tool in tools)
{
    Console.WriteLine($"  {tool.Name}: {tool.Description.Split('\n')[0]}");
}

var apiKey = Environment.GetEnvironmentVariable("OPENROUTER_API_KEY") ?? Environment.GetEnvironmentVariable("LLM_API_KEY");
if (string.IsNullOrEmpty(apiKey))
{
    Console.WriteLine();
    Console.WriteLine("No LLM is configured. Set OPENROUTER_API_KEY (or LLM_API_KEY with LLM_BASE_URL for any OpenAI-compatible");
    Console.WriteLine("endpoint such as Ollama at http://localhost:11434/v1), optionally LLM_MODEL (default openai/gpt-4o-mini),");
    Console.WriteLine("then run: dotnet run --project examples/LlmApp -- \"What files are in my shared folder?\"");
    return 0;
}

var endpoint = new Uri(Environment.GetEnvironmentVariable("LLM_BASE_URL") ?? "https://openrouter.ai/api/v1");
var model = Environment.GetEnvironmentVariable("LLM_MODEL") ?? "openai/gpt-4o-mini";
IChatClient chat = new ChatClientBuilder(new OpenAIClient(new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = endpoint }).GetChatClient(model).AsIChatClient())
    .UseFunctionInvocation()
    .Build();

var question = args.Length > 0 ? string.Join(' ', args) : "Which tools can you use? Answer in one sentence.";
var response = await chat.GetResponseAsync(
    [new ChatMessage(ChatRole.System, "You are a helpful assistant on the user's computer. Use the tools when they help."), new ChatMessage(ChatRole.User, question)],
    new ChatOptions { Tools = [.. tools] });
Console.WriteLine();
Console.WriteLine(response.Text);
return 0;
