using Cpm.Api.Http;

namespace Cpm.Api.Docs;

/// <summary>The error answers an endpoint can give, each with an example the contract defines.</summary>
internal sealed record ApiErrorsMetadata(IReadOnlyList<ApiError> Examples);

internal static class ApiErrorsMetadataExtensions
{
    /// <summary>Declares error answers; each example's code decides its status.</summary>
    public static TBuilder WithErrors<TBuilder>(this TBuilder builder, params ApiError[] examples)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiErrorsMetadata(examples));
}

/// <summary>Examples shared by many endpoints.</summary>
internal static class CommonErrors
{
    public static readonly ApiError MissingKey = new(ErrorCodes.AccessDenied, "Missing apikey header");
    public static readonly ApiError MissingVersion = new(ErrorCodes.MissingValue, "Event.headers.version: field required");
    public static readonly ApiError UnsupportedVersion = new(ErrorCodes.AccessDenied, "Version not supported: 0");
    public static readonly ApiError InvalidJson = new(ErrorCodes.ValidationError, "Invalid JSON body was provided: line 1 column 20 (char 19)");
    public static readonly ApiError TooLarge = new(ErrorCodes.PayloadTooLarge, $"Request body is larger than the limit of {RequestBody.MaxBytes} bytes");
    public static readonly ApiError StorageDown = new(ErrorCodes.ServiceUnavailable, "SQLite read failed: database is locked");
}
