using Cpm.Api.Wire;

namespace Cpm.Api.Http;

/// <summary>
/// A 200 answer whose size grows with the data (search, listing, history), written in bounded
/// pieces: an answer that stays under <see cref="PieceSize"/> goes out whole with its
/// <c>Content-Length</c>, as before; a larger one is sent chunked while it is built, so memory per
/// request does not grow with the answer.
/// </summary>
internal sealed class JsonPieces(HttpResponse response)
{
    public const int PieceSize = 64 * 1024;

    /// <summary>Items read from the store at a time.</summary>
    public const int StorePage = 500;

    private bool _started;

    public PythonJsonWriter Json { get; } = new();

    /// <summary>Sends what is written so far once it has reached <see cref="PieceSize"/>.</summary>
    private async ValueTask FlushIfFullAsync(CancellationToken cancellationToken)
    {
        if (Json.Length >= PieceSize)
        {
            Start(contentLength: null);
            await response.Body.WriteAsync(Json.TakeUtf8Bytes(), cancellationToken);
        }
    }

    /// <summary>
    /// Writes every item the store hands back, a page of <see cref="StorePage"/> at a time, each page
    /// read after the last item of the one before, and sends a piece whenever one is full.
    /// </summary>
    public async Task WriteAllAsync<T>(Func<T?, int, CancellationToken, Task<IReadOnlyList<T>>> readAfter, Action<T> write, CancellationToken cancellationToken)
        where T : class
    {
        T? last = null;
        while (true)
        {
            var page = await readAfter(last, StorePage, cancellationToken);
            foreach (var item in page)
            {
                write(item);
            }

            await FlushIfFullAsync(cancellationToken);
            if (page.Count < StorePage)
            {
                return;
            }

            last = page[^1];
        }
    }

    private async Task CompleteAsync(CancellationToken cancellationToken)
    {
        var rest = Json.TakeUtf8Bytes();
        Start(rest.Length);
        await response.Body.WriteAsync(rest, cancellationToken);
    }

    private void Start(long? contentLength)
    {
        if (!_started)
        {
            _started = true;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ApiResults.JsonContentType;
            response.ContentLength = contentLength;
        }
    }

    /// <summary>The answer <paramref name="write"/> builds; a failure before the first piece is sent is still an error answer.</summary>
    public static IResult Result(Func<JsonPieces, CancellationToken, Task> write) => new PiecesResult(write);

    private sealed class PiecesResult(Func<JsonPieces, CancellationToken, Task> write) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => StatusCodes.Status200OK;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var pieces = new JsonPieces(httpContext.Response);
            await write(pieces, httpContext.RequestAborted);
            await pieces.CompleteAsync(httpContext.RequestAborted);
        }
    }
}
