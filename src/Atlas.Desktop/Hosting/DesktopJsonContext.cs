using System.Text.Json;
using System.Text.Json.Serialization;
using Atlas.Desktop.Admin;
using Atlas.Desktop.Files;
using Atlas.Desktop.Realtime;

namespace Atlas.Desktop.Hosting;

/// <summary>Source-generated JSON for the desktop's own payloads.</summary>
// Strict numbers: Web defaults read "10" as 10, but a wrongly typed field is bad_request (atlas-protocol.md).
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(StaticAssets.WorkerBuild))]
[JsonSerializable(typeof(FileListing))]
[JsonSerializable(typeof(FileChunk))]
[JsonSerializable(typeof(FileDeleted))]
[JsonSerializable(typeof(UploadCreateRequest))]
[JsonSerializable(typeof(UploadStatus))]
[JsonSerializable(typeof(UploadSessionList))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(PairCertificate))]
[JsonSerializable(typeof(DesktopState))]
[JsonSerializable(typeof(PairingView))]
[JsonSerializable(typeof(DeviceView))]
[JsonSerializable(typeof(List<DeviceView>))]
[JsonSerializable(typeof(PermissionsChange))]
[JsonSerializable(typeof(AdminLogin))]
[JsonSerializable(typeof(AdminLink))]
[JsonSerializable(typeof(RevokeResult))]
[JsonSerializable(typeof(PairOutput))]
[JsonSerializable(typeof(Identity.TlsView))]
[JsonSerializable(typeof(Identity.TlsChange))]
internal sealed partial class DesktopJsonContext : JsonSerializerContext;

internal sealed record HealthStatus(string Status, int Protocol, string Version);

/// <summary>GET /pair/certificate: the served certificate's SHA-256 ("AB:CD:…"; in trusted mode the CA's), and the TLS
/// mode (<c>self-signed</c>, <c>local-ca</c> or <c>certificate</c>), for the pairing page.</summary>
internal sealed record PairCertificate(string Sha256, string Mode = "self-signed");
