using Cpm.Api.Wire;

namespace Cpm.Api.Http;

internal sealed record ApiError(string Code, string Message);

/// <summary>The contract's error codes and the HTTP status each one travels with.</summary>
internal static class ErrorCodes
{
    public const string ValidationError = "VALIDATION_ERROR";
    public const string MissingValue = "MISSING_VALUE";
    public const string AccessDenied = "ACCESS_DENIED";
    public const string ResourceNotFound = "RESOURCE_NOT_FOUND";
    public const string Conflict = "CONFLICT";
    public const string UnprocessableEntity = "UNPROCESSABLE_ENTITY";
    public const string ServiceError = "SERVICE_ERROR";
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    public const string PreconditionFailed = "PRECONDITION_FAILED";
    public const string PreconditionRequired = "PRECONDITION_REQUIRED";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";

    public static int Status(string code) => code switch
    {
        ValidationError or MissingValue => StatusCodes.Status400BadRequest,
        AccessDenied => StatusCodes.Status403Forbidden,
        ResourceNotFound => StatusCodes.Status404NotFound,
        MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        Conflict => StatusCodes.Status409Conflict,
        PayloadTooLarge => StatusCodes.Status413PayloadTooLarge,
        PreconditionFailed => StatusCodes.Status412PreconditionFailed,
        PreconditionRequired => StatusCodes.Status428PreconditionRequired,
        UnprocessableEntity => StatusCodes.Status422UnprocessableEntity,
        ServiceUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };
}

/// <summary>Every response body the API writes goes through here, in the contract's JSON format.</summary>
internal static class ApiResults
{
    public const string JsonContentType = "application/json";

    public static JsonAnswer Json(int status, PythonJsonWriter body, string? etag = null) =>
        new(status, body.ToUtf8Bytes(), etag);

    /// <summary>An answer remembered for an idempotent POST, sent again as it was.</summary>
    public static IResult Stored(int status, string body, string? etag) =>
        new JsonAnswer(status, System.Text.Encoding.ASCII.GetBytes(body), etag);

    public static IResult Error(string code, string message) => Errors([new ApiError(code, message)]);

    /// <summary>An endpoint filter's refusal: the error, without running the endpoint.</summary>
    public static ValueTask<object?> Refuse(string code, string message) => ValueTask.FromResult<object?>(Error(code, message));

    /// <summary>Errors of one response share a status: the first error's code decides it.</summary>
    public static IResult Errors(IReadOnlyList<ApiError> errors) =>
        Json(ErrorCodes.Status(errors[0].Code), ErrorBody(errors));

    public static IResult NotFound(string message) => Error(ErrorCodes.ResourceNotFound, message);

    public static IResult Deleted(string id) => Json(StatusCodes.Status200OK, new PythonJsonWriter()
        .StartObject()
        .Property("code", "RESOURCE_DELETED")
        .Property("message", $"{id} has been deleted.")
        .EndObject());

    public static PythonJsonWriter ErrorBody(IReadOnlyList<ApiError> errors)
    {
        var json = new PythonJsonWriter().StartObject().Key("errors").StartArray();
        foreach (var error in errors)
        {
            json.StartObject().Property("code", error.Code).Property("message", error.Message).EndObject();
        }

        return json.EndArray().EndObject();
    }

    public static Task WriteErrorAsync(HttpContext context, string code, string message) =>
        Error(code, message).ExecuteAsync(context);
}

/// <summary>A whole JSON answer: its status, its bytes and its ETag, so it can also be remembered.</summary>
internal sealed class JsonAnswer(int status, byte[] body, string? etag = null) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => status;

    public int Status => status;

    public string? ETag => etag;

    /// <summary>The body as text: ASCII, as everything the JSON writer writes.</summary>
    public string Text => System.Text.Encoding.ASCII.GetString(body);

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = status;
        response.ContentType = ApiResults.JsonContentType;
        response.ContentLength = body.Length;
        if (etag is not null)
        {
            response.Headers.ETag = etag;
        }

        return response.Body.WriteAsync(body).AsTask();
    }
}
