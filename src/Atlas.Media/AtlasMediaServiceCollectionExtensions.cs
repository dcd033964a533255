using Atlas.Media;
using Atlas.Media.Analysis;
using Atlas.Media.Jobs;
using Atlas.Media.Mcp;
using Atlas.Media.Models;
using Atlas.Media.Ocr;
using Atlas.Media.Processes;
using Atlas.Media.Speech;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Atlas media pipeline.</summary>
public static class AtlasMediaServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="MediaPipeline"/> (singleton), its default engines (tesseract and PP-OCRv4 for OCR, pocketsphinx,
    /// zbar, BlazeFace; each replaceable by registering its interface first), <see cref="MediaMcpTools"/>, and
    /// <see cref="AtlasMediaOptions"/> validated at startup. The describe task uses an <see cref="IChatClient"/>
    /// from the container when one is registered.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddAtlasMedia(this IServiceCollection services, Action<AtlasMediaOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<AtlasMediaOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AtlasMediaOptions>, AtlasMediaOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ModelLocator(sp.GetRequiredService<IOptions<AtlasMediaOptions>>().Value));
        services.TryAddSingleton(sp => new ToolRunner(sp.GetRequiredService<IOptions<AtlasMediaOptions>>().Value, Logger<ToolRunner>(sp)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOcrEngine, TesseractOcrEngine>(sp => new TesseractOcrEngine(sp.GetRequiredService<ToolRunner>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOcrEngine, PaddleOcrEngine>(sp => new PaddleOcrEngine(sp.GetRequiredService<ModelLocator>())));
        services.TryAddSingleton<ITranscriber>(sp => new PocketSphinxTranscriber(sp.GetRequiredService<ToolRunner>()));
        services.TryAddSingleton<IFaceDetector>(sp => new BlazeFaceDetector(sp.GetRequiredService<ModelLocator>()));
        services.TryAddSingleton<IBarcodeReader>(sp => new ZbarBarcodeReader(sp.GetRequiredService<ToolRunner>()));
        services.TryAddSingleton(sp =>
        {
            var engines = new MediaEngines(
                [.. sp.GetServices<IOcrEngine>()], sp.GetRequiredService<ITranscriber>(), sp.GetRequiredService<IFaceDetector>(), sp.GetRequiredService<IBarcodeReader>());
            return new MediaPipeline(
                sp.GetRequiredService<IOptions<AtlasMediaOptions>>().Value, engines, () => sp.GetService<IChatClient>(),
                sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton(sp => new MediaMcpTools(
            sp.GetRequiredService<MediaPipeline>(), sp.GetRequiredService<IOptions<AtlasMediaOptions>>().Value, Logger<MediaMcpTools>(sp)));
        return services;
    }

    private static ILogger<T> Logger<T>(IServiceProvider sp) =>
        sp.GetService<ILoggerFactory>()?.CreateLogger<T>() ?? NullLogger<T>.Instance;
}
