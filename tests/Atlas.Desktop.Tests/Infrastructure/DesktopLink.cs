using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Atlas.Desktop.Tests.Infrastructure;

/// <summary>The network path between the phone and a running desktop, which a test can cut and restore while the
/// desktop process (and its generations) goes on: cutting aborts every request and socket in flight and every new one
/// until restored, as a desktop that dropped off the network does. Installed first in the host's pipeline.</summary>
internal sealed class DesktopLink : IStartupFilter
{
    private readonly ConcurrentDictionary<HttpContext, byte> _open = new();
    private volatile bool _cut;

    /// <summary>Adds the link to a host being built (<see cref="AtlasTestHost.StartAsync"/>'s configure).</summary>
    public void Install(WebApplicationBuilder builder) => builder.Services.AddSingleton<IStartupFilter>(this);

    /// <summary>Cuts the link: every open request and socket is aborted and new ones are aborted on arrival.</summary>
    public void Cut()
    {
        _cut = true;
        foreach (var context in _open.Keys)
        {
            context.Abort();
        }
    }

    /// <summary>Restores the link.</summary>
    public void Restore() => _cut = false;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, following) =>
        {
            if (_cut)
            {
                context.Abort();
                return;
            }

            _open.TryAdd(context, 0);
            try
            {
                await following(context);
            }
            finally
            {
                _open.TryRemove(context, out _);
            }
        });
        next(app);
    };
}
