using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>One HTTP/1.1 answer read off the wire; <see cref="Text"/> is the body as UTF-8.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Sends exactly the bytes given over a fresh loopback socket and reads one answer, so a test
/// controls what no HTTP client would send: broken framing, odd paths, oversized parts.
/// </summary>
public static class RawHttp
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>A request with the given parts; <c>Content-Length</c> is added for a body unless a framing header is given.</summary>
    public static byte[] Request(string method, string target, IEnumerable<string> headers, byte[]? body = null)
    {
        var head = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        var headerList = headers.ToList();
        foreach (var header in headerList)
        {
            head.Append(header).Append("\r\n");
        }

        var framed = headerList.Any(header =>
            header.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase) || header.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase));
        if (body is not null && !framed)
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body ?? []];
    }

    /// <summary>The answer, or an exception when none complete arrives within <see cref="Bound"/>.</summary>
    public static async Task<RawResponse> SendAsync(int port, byte[] request)
    {
        using var timeout = new CancellationTokenSource(Bound);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        try
        {
            await socket.SendAsync(request, SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            // The server stopped reading (an early 413, say); its answer may already be waiting.
        }

        var isHead = request.AsSpan().StartsWith("HEAD "u8);
        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        var headerLength = -1;
        var contentLength = -1;
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No complete answer within {Bound.TotalSeconds} s; got: {Latin1(received, received.Length)}");
            }

            received.Write(buffer, 0, read);
            if (headerLength < 0 && received.GetBuffer().AsSpan(0, (int)received.Length).IndexOf(HeaderEnd) is var end and >= 0)
            {
                headerLength = end + HeaderEnd.Length;
                contentLength = isHead ? 0 : ContentLength(Latin1(received, end));
            }

            var complete = headerLength >= 0 && contentLength >= 0 && received.Length >= headerLength + contentLength;
            if (complete || read == 0)
            {
                break;
            }
        }

        return headerLength >= 0
            ? Parse(Latin1(received, headerLength - HeaderEnd.Length), received.ToArray()[headerLength..])
            : throw new IOException($"The connection closed without an answer; got: {Latin1(received, received.Length)}");
    }

    private static string Latin1(MemoryStream bytes, long length) => Encoding.Latin1.GetString(bytes.GetBuffer(), 0, (int)length);

    private static RawResponse Parse(string head, byte[] body)
    {
        var lines = head.Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon]] = line[(colon + 1)..].Trim();
        }

        return new RawResponse(status, headers, body);
    }

    private static int ContentLength(string head) => head.Split("\r\n")
        .Where(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
        .Select(line => int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture))
        .DefaultIfEmpty(-1)
        .First();
}
