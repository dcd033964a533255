namespace Atlas.Desktop.Devices;

/// <summary>The lifetime of each device's live HTTP requests. Every authenticated request of a device is registered here
/// while it runs (<see cref="TryAttach"/>); revocation (<see cref="Revoke"/>) marks the device revoked and aborts every
/// registered request at once: a REST chat stream (SSE), a file download, an upload chunk on its way. Writers check
/// <see cref="IsRevoked"/> before they commit, so nothing of a revoked device is written afterwards.</summary>
/// <remarks>WebSockets are not registered here: they authenticate with a frame and are closed (with a close frame) by
/// the connection registry.</remarks>
internal sealed class DeviceLifetimes
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<HttpContext>> _requests = new(StringComparer.Ordinal);

    // Device ids are random and never reused, so a revoked id stays revoked for the life of the process.
    private readonly HashSet<string> _revoked = new(StringComparer.Ordinal);

    /// <summary>Whether the device was revoked while this process ran.</summary>
    public bool IsRevoked(string deviceId)
    {
        lock (_lock)
        {
            return _revoked.Contains(deviceId);
        }
    }

    /// <summary>Requests of a device in flight now.</summary>
    public int CountFor(string deviceId)
    {
        lock (_lock)
        {
            return _requests.TryGetValue(deviceId, out var set) ? set.Count : 0;
        }
    }

    /// <summary>Registers a request of <paramref name="deviceId"/> until its response ends; false when the device was
    /// revoked (the request must then be refused).</summary>
    public bool TryAttach(string deviceId, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        lock (_lock)
        {
            if (_revoked.Contains(deviceId))
            {
                return false;
            }

            if (!_requests.TryGetValue(deviceId, out var set))
            {
                _requests[deviceId] = set = [];
            }

            if (!set.Add(context))
            {
                return true;
            }
        }

        context.Response.RegisterForDispose(new Registration(this, deviceId, context));
        return true;
    }

    /// <summary>Raised with the device id once a device is revoked (after its requests were cut), for what is kept or
    /// running per device elsewhere: cached answers, running chat answers, media jobs. This type depends on nothing, so
    /// any service can listen without a dependency cycle through the device service.</summary>
    public event Action<string>? Revoked;

    /// <summary>Raised with the device id and its new permissions after they changed, for requests that hold a permission
    /// while they run (<c>/mcp</c> tool calls end when the device may no longer use their server).</summary>
    public event Action<string, IReadOnlyList<string>>? PermissionsChanged;

    /// <summary>Tells <see cref="PermissionsChanged"/> listeners that the device's permissions are now <paramref name="permissions"/>.</summary>
    public void ChangePermissions(string deviceId, IReadOnlyList<string> permissions) => PermissionsChanged?.Invoke(deviceId, permissions);

    /// <summary>Marks the device revoked and aborts each of its requests in flight; returns how many were cut.</summary>
    public int Revoke(string deviceId)
    {
        int cut;
        lock (_lock)
        {
            _revoked.Add(deviceId);
            cut = 0;
            if (_requests.Remove(deviceId, out var set))
            {
                // Aborted under the lock: a request that ends concurrently cannot be detached (and its pooled context
                // reused for another request) before it was aborted.
                foreach (var context in set)
                {
                    context.Abort();
                }

                cut = set.Count;
            }
        }

        Revoked?.Invoke(deviceId);
        return cut;
    }

    private void Detach(string deviceId, HttpContext context)
    {
        lock (_lock)
        {
            if (_requests.TryGetValue(deviceId, out var set) && set.Remove(context) && set.Count == 0)
            {
                _requests.Remove(deviceId);
            }
        }
    }

    private sealed class Registration(DeviceLifetimes owner, string deviceId, HttpContext context) : IDisposable
    {
        public void Dispose() => owner.Detach(deviceId, context);
    }
}
