using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// A loopback proxy in front of moto that can answer as DynamoDB does when it is in trouble:
/// transactions cancelled by a conflict (moto never reports one) or the service failing outright.
/// It also notes every call it is sent (the operation of its <c>X-Amz-Target</c>), so tests can
/// count the calls a request makes.
/// </summary>
public sealed class DynamoDbFaultProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _moto;
    private readonly ConcurrentQueue<string> _calls = new();
    private int _conflictsLeft;
    private int _conflictsSent;

    private DynamoDbFaultProxy(WebApplication app, string motoUrl)
    {
        _app = app;
        _moto = new HttpClient { BaseAddress = new Uri(motoUrl) };
    }

    public string Url { get; private set; } = "";

    /// <summary>While set, every request answers 500 InternalServerError.</summary>
    public bool Down { get; set; }

    public int ConflictsSent => Volatile.Read(ref _conflictsSent);

    /// <summary>The operations called since <see cref="ForgetCalls"/>, in the order they arrived (GetItem, Query, ...).</summary>
    public IReadOnlyList<string> Calls => [.. _calls];

    public void ForgetCalls() => _calls.Clear();

    /// <summary>The next <paramref name="count"/> TransactWriteItems calls are cancelled with TransactionConflict.</summary>
    public void CancelNextTransactions(int count) => Volatile.Write(ref _conflictsLeft, count);

    public static async Task<DynamoDbFaultProxy> StartAsync(string motoUrl)
    {
        var app = LoopbackServer.Create();
        var proxy = new DynamoDbFaultProxy(app, motoUrl);
        app.Run(proxy.AnswerAsync);
        await app.StartAsync();
        proxy.Url = LoopbackServer.AddressOf(app);
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _moto.Dispose();
    }

    private async Task AnswerAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var operation = context.Request.Headers["X-Amz-Target"].ToString();
        _calls.Enqueue(operation[(operation.IndexOf('.', StringComparison.Ordinal) + 1)..]);

        if (Down)
        {
            await ErrorAsync(context, 500, """{"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "Internal server error (injected)"}""");
            return;
        }

        if (operation.EndsWith(".TransactWriteItems", StringComparison.Ordinal) && Interlocked.Decrement(ref _conflictsLeft) >= 0)
        {
            Interlocked.Increment(ref _conflictsSent);
            await ErrorAsync(context, 400, Conflict(body));
            return;
        }

        using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString)
        {
            Content = new ByteArrayContent(body),
        };
        foreach (var (name, values) in context.Request.Headers)
        {
            if (name is "Host" or "Content-Length" || forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values))
            {
                continue;
            }

            forward.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
        }

        using var response = await _moto.SendAsync(forward);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        await response.Content.CopyToAsync(context.Response.Body);
    }

    /// <summary>What DynamoDB answers when a transaction meets another one: the first item conflicts, the others are fine.</summary>
    private static string Conflict(byte[] request)
    {
        using var json = JsonDocument.Parse(request);
        var items = json.RootElement.GetProperty("TransactItems").GetArrayLength();
        var reasons = Enumerable.Range(0, items).Select(index => index == 0
            ? """{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}"""
            : """{"Code": "None"}""");
        var codes = string.Join(", ", Enumerable.Range(0, items).Select(index => index == 0 ? "TransactionConflict" : "None"));
        return new StringBuilder()
            .Append("""{"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException", """)
            .Append($"\"Message\": \"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]\", ")
            .Append($"\"CancellationReasons\": [{string.Join(", ", reasons)}]}}")
            .ToString();
    }

    private static async Task ErrorAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.0";
        await context.Response.WriteAsync(body);
    }
}
