using System.Buffers;
using System.Collections.Concurrent;
using Cpm.Api.Telemetry;
using Microsoft.Extensions.Options;
using ZLogger;

namespace Cpm.Api.Ods;

internal sealed class OdsOptions
{
    public const string Section = "Ods";
    public const string PublicBaseUrl = "https://directory.spineservices.nhs.uk/ORD/2-0-0/organisations";

    public string BaseUrl { get; set; } = PublicBaseUrl;

    /// <summary>How long a code ODS confirmed is trusted without asking again.</summary>
    public TimeSpan KnownGoodCacheDuration { get; set; } = TimeSpan.FromMinutes(5);
}

internal enum OdsVerdict
{
    Valid,
    Invalid,
    Unavailable,
}

/// <summary>
/// Checks organisation codes against the ODS ORD API. Timeouts and retries come from the
/// standard resilience handler configured in <see cref="OdsServiceCollectionExtensions"/>;
/// here only the verdict: 2xx valid, 4xx invalid, anything else (after retries) unavailable.
/// </summary>
internal sealed partial class OdsClient(HttpClient http, KnownGoodOdsCodes knownGood, CpmMetrics metrics, IOptions<OdsOptions> options, ILogger<OdsClient> logger)
{
    private const int MaxCodeLength = 32;

    private static readonly SearchValues<char> CodeCharacters =
        SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public string UrlFor(string odsCode) => $"{options.Value.BaseUrl.TrimEnd('/')}/{odsCode}";

    public async Task<OdsVerdict> CheckAsync(string odsCode, CancellationToken cancellationToken)
    {
        // No real code has another shape; anything else (blank, a path step, a query, a megabyte)
        // would only cost ODS a request, and its 4xx must not count against anyone else's creates.
        if (!IsWellFormed(odsCode))
        {
            return OdsVerdict.Invalid;
        }

        if (knownGood.Contains(odsCode))
        {
            metrics.OdsChecked("cached");
            return OdsVerdict.Valid;
        }

        var verdict = await AskAsync(odsCode, cancellationToken);
        metrics.OdsChecked(verdict.ToString().ToLowerInvariant());
        if (verdict == OdsVerdict.Valid)
        {
            knownGood.Add(odsCode);
        }

        return verdict;
    }

    /// <summary>1 to 32 ASCII letters and digits.</summary>
    public static bool IsWellFormed(string odsCode) =>
        odsCode.Length is > 0 and <= MaxCodeLength && !odsCode.AsSpan().ContainsAnyExcept(CodeCharacters);

    private async Task<OdsVerdict> AskAsync(string odsCode, CancellationToken cancellationToken)
    {
        var url = $"{options.Value.BaseUrl.TrimEnd('/')}/{Uri.EscapeDataString(odsCode)}";
        try
        {
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            LogAnswer(odsCode, status);
            return status switch
            {
                >= 200 and < 300 => OdsVerdict.Valid,

                // Timed out or rate-limited: ODS could not answer, which says nothing about the code.
                StatusCodes.Status408RequestTimeout or StatusCodes.Status429TooManyRequests => OdsVerdict.Unavailable,
                >= 400 and < 500 => OdsVerdict.Invalid,
                _ => OdsVerdict.Unavailable,
            };
        }
        catch (Exception failure) when (failure is HttpRequestException or TimeoutException or Polly.ExecutionRejectedException
            || (failure is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogUnavailable(odsCode, failure.GetType().Name, failure.Message);
            return OdsVerdict.Unavailable;
        }
    }

    [ZLoggerMessage(LogLevel.Information, "ODS answered {Status} for {OdsCode}")]
    private partial void LogAnswer(string odsCode, int status);

    [ZLoggerMessage(LogLevel.Warning, "ODS unavailable for {OdsCode}: {Failure}: {Reason}")]
    private partial void LogUnavailable(string odsCode, string failure, string reason);
}

/// <summary>Codes ODS confirmed recently; one per service, since typed clients are transient.</summary>
internal sealed class KnownGoodOdsCodes(IOptions<OdsOptions> options, TimeProvider time)
{
    private const int MaxCodes = 10_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _expiries = new(StringComparer.Ordinal);

    public bool Contains(string odsCode) => _expiries.TryGetValue(odsCode, out var expires) && expires > time.GetUtcNow();

    public void Add(string odsCode)
    {
        if (_expiries.Count >= MaxCodes)
        {
            _expiries.Clear();
        }

        _expiries[odsCode] = time.GetUtcNow() + options.Value.KnownGoodCacheDuration;
    }
}
