using System.Security.Cryptography;
using System.Text;
using Cpm.Api.Auth;
using Cpm.Api.Docs;
using Cpm.Api.Storage;
using Cpm.Api.Wire;

namespace Cpm.Api.Http;

/// <summary>
/// Idempotent POSTs: a POST carrying <c>X-Request-Id</c> that repeats an earlier successful one of
/// the same caller (same route and same JSON body, compared as parsed JSON) within 24 hours gets
/// the original answer again. The answer is stored in the write's own transaction; concurrent
/// duplicates on this node wait for the first, and on other nodes lose the store's race and replay.
/// </summary>
internal sealed class IdempotencyFilter(ICpmStore store, IdempotencyLocks locks, TimeProvider time) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (RequestIds.Read(http.Request, RequestIds.RequestIdHeader) is not { } requestId)
        {
            return await next(context);
        }

        var caller = Caller.Current(http).Name;
        var fingerprint = await FingerprintAsync(http.Request);
        using (await locks.AcquireAsync(caller, requestId, http.RequestAborted))
        {
            if (await store.FindResponseAsync(caller, requestId, time.GetUtcNow() - StoredResponse.ReplayWindow, http.RequestAborted) is { } earlier)
            {
                return Replay(earlier, fingerprint);
            }

            http.Features.Set(new PendingAnswer(caller, requestId, fingerprint));
            try
            {
                return await next(context);
            }
            catch (DuplicateRequestException)
            {
                var winner = await store.FindResponseAsync(caller, requestId, time.GetUtcNow() - StoredResponse.ReplayWindow, http.RequestAborted);
                return Replay(winner!, fingerprint);
            }
        }
    }

    public static string Reused(string requestId) => $"X-Request-Id '{requestId}' was already used for a different request";

    private static IResult Replay(StoredResponse earlier, string fingerprint) =>
        earlier.Fingerprint == fingerprint
            ? ApiResults.Stored(earlier.Status, earlier.Body, earlier.ETag)
            : ApiResults.Error(ErrorCodes.UnprocessableEntity, Reused(earlier.RequestId));

    /// <summary>Method, path and body as parsed JSON with sorted keys (the raw bytes when it does not parse).</summary>
    private static async Task<string> FingerprintAsync(HttpRequest request)
    {
        var (body, _) = await RequestBody.ReadObjectAsync(request, request.HttpContext.RequestAborted);
        var canonical = body is null ? "(unparsed)" : new PythonJsonWriter().Value(body, sortKeys: true).ToString();
        var text = $"{request.Method} {request.Path.Value}\n{canonical}";
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private sealed record PendingAnswer(string Caller, string RequestId, string Fingerprint);

    internal static WriteContext Remember(WriteContext write, HttpContext http, JsonAnswer answer) =>
        http.Features.Get<PendingAnswer>() is { } pending
            ? write with { Response = new StoredResponse(pending.Caller, pending.RequestId, pending.Fingerprint, answer.Status, answer.Text, answer.ETag, write.Now) }
            : write;
}

/// <summary>
/// One lock per caller and request id, held while that request runs: a duplicate waits for the
/// first and then replays its answer; unrelated requests never wait for each other.
/// </summary>
internal sealed class IdempotencyLocks
{
    private readonly Dictionary<(string Caller, string RequestId), Entry> _entries = [];

    public async Task<IDisposable> AcquireAsync(string caller, string requestId, CancellationToken cancellationToken)
    {
        var key = (caller, requestId);
        Entry? entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out entry))
            {
                _entries[key] = entry = new Entry();
            }

            entry.Users++;
        }

        try
        {
            await entry.Gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Leave(key, entry);
            throw;
        }

        return new Lease(this, key, entry);
    }

    private void Leave((string, string) key, Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Users == 0)
            {
                _entries.Remove(key);
            }
        }
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int Users { get; set; }
    }

    private sealed class Lease(IdempotencyLocks locks, (string, string) key, Entry entry) : IDisposable
    {
        public void Dispose()
        {
            entry.Gate.Release();
            locks.Leave(key, entry);
        }
    }
}

internal static class IdempotencyExtensions
{
    /// <summary>Remembers this POST's answer with its write when the request carries <c>X-Request-Id</c>.</summary>
    public static RouteHandlerBuilder Idempotent(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter<IdempotencyFilter>()
            .WithErrors(new ApiError(ErrorCodes.UnprocessableEntity, IdempotencyFilter.Reused("4c5e8a52-8f4b-4bd8-9c1c-7f2e7f0b9d21")));

    /// <summary>The write, carrying <paramref name="answer"/> to remember with it when the request is an idempotent POST.</summary>
    public static WriteContext Remembering(this WriteContext write, HttpContext http, JsonAnswer answer) =>
        IdempotencyFilter.Remember(write, http, answer);
}
