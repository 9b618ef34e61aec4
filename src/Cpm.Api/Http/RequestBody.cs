using System.Text;
using Cpm.Api.Wire;

namespace Cpm.Api.Http;

/// <summary>Reads a JSON object body: bounded in size, strict UTF-8, Python's JSON rules.</summary>
internal static class RequestBody
{
    public const int MaxBytes = 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A request model's validation: the model, or null with the errors.</summary>
    public delegate T? Validator<T>(JsonDict body, out IReadOnlyList<ApiError> errors)
        where T : class;

    /// <summary>The body read and validated as <typeparamref name="T"/>, or the 4xx result to answer with instead.</summary>
    public static async Task<(T? Model, IResult? Error)> ReadValidAsync<T>(HttpRequest request, Validator<T> validate, CancellationToken cancellationToken)
        where T : class
    {
        var (body, error) = await ReadObjectAsync(request, cancellationToken);
        if (error is not null)
        {
            return (null, error);
        }

        return validate(body!, out var errors) is { } model ? (model, null) : (null, ApiResults.Errors(errors));
    }

    /// <summary>The parsed object, or the 4xx result to answer with instead. Read once per request.</summary>
    public static async Task<(JsonDict? Body, IResult? Error)> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.HttpContext.Features.Get<ParsedBody>() is { } parsed)
        {
            return (parsed.Body, parsed.Error);
        }

        var result = await ParseAsync(request, cancellationToken);
        request.HttpContext.Features.Set(new ParsedBody(result.Body, result.Error));
        return result;
    }

    private static async Task<(JsonDict? Body, IResult? Error)> ParseAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        var bytes = await ReadBoundedAsync(request.Body, cancellationToken);
        if (bytes is null)
        {
            return (null, TooLarge());
        }

        if (bytes.Length == 0)
        {
            return (new JsonDict(), null);
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return (null, ApiResults.Error(ErrorCodes.ValidationError, "Invalid JSON body was provided: the body is not valid UTF-8"));
        }

        try
        {
            return PythonJsonParser.Parse(text) is JsonDict body
                ? (body, null)
                : (null, ApiResults.Error(ErrorCodes.ValidationError, "Request body must be a JSON object"));
        }
        catch (InvalidJsonException invalid)
        {
            return (null, ApiResults.Error(ErrorCodes.ValidationError, $"Invalid JSON body was provided: {invalid.Message}"));
        }
    }

    private sealed record ParsedBody(JsonDict? Body, IResult? Error);

    private static IResult TooLarge() =>
        ApiResults.Error(ErrorCodes.PayloadTooLarge, $"Request body is larger than the limit of {MaxBytes} bytes");

    /// <summary>The whole body, or null as soon as it passes the limit (the rest is never read).</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
