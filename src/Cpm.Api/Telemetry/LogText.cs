namespace Cpm.Api.Telemetry;

/// <summary>Caller-supplied text bound for logs and traces: clipped, so one request cannot flood them.</summary>
internal static class LogText
{
    public const int MaxLength = 100;

    public static string? Clip(string? value) =>
        value is { Length: > MaxLength } ? string.Concat(value.AsSpan(0, MaxLength), "…") : value;
}
