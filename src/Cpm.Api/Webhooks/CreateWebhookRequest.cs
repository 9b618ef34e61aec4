using Cpm.Api.Http;
using Cpm.Api.Wire;

namespace Cpm.Api.Webhooks;

/// <summary><c>CreateWebhookIncomingParams</c>: the body of <c>POST /Webhooks</c> and its rules.</summary>
internal sealed record CreateWebhookRequest(string Url, string Secret, string? Description)
{
    public const string Model = "CreateWebhookIncomingParams";
    public const int MaxUrlLength = 2048;
    public const int MinSecretLength = 16;
    public const int MaxSecretLength = 256;
    public const int MaxDescriptionLength = 255;

    public const string InvalidScheme = "invalid or missing URL scheme";
    public const string SchemeNotPermitted = "URL scheme not permitted";

    private const string UrlField = "url";
    private const string SecretField = "secret";
    private const string DescriptionField = "description";

    public static CreateWebhookRequest? Validate(JsonDict body, out IReadOnlyList<ApiError> errors)
    {
        var model = new ModelErrors(Model);
        var url = ValidateUrl(model, model.RequiredString(body, UrlField));
        var secret = ValidateLength(model, SecretField, model.RequiredString(body, SecretField), MinSecretLength, MaxSecretLength);
        string? description = null;
        var descriptionValid = true;
        if (body.TryGetValue(DescriptionField, out var given) && given is not null)
        {
            description = ValidateLength(model, DescriptionField, ModelErrors.AsPythonString(given, out var problem), 0, MaxDescriptionLength);
            if (problem is not null)
            {
                model.Invalid(DescriptionField, problem);
            }

            descriptionValid = description is not null;
        }

        model.RejectUnknownFields(body.Keys, UrlField, SecretField, DescriptionField);
        errors = model.Errors;
        return model.HasErrors || url is null || secret is null || !descriptionValid ? null : new CreateWebhookRequest(url, secret, description);
    }

    private static string? ValidateUrl(ModelErrors model, string? url)
    {
        if (url is null || ValidateLength(model, UrlField, url, 1, MaxUrlLength) is null)
        {
            return null;
        }

        // A scheme written out, not one .NET infers (it reads "/path" as a file URI on Linux).
        if (!HasScheme(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || url.Any(char.IsWhiteSpace))
        {
            model.Invalid(UrlField, InvalidScheme);
            return null;
        }

        if (uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            model.Invalid(UrlField, SchemeNotPermitted);
            return null;
        }

        return url;
    }

    private static bool HasScheme(string url)
    {
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && char.IsAsciiLetter(url[0]) && url[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.');
    }

    /// <summary>Lengths in characters (code points), as pydantic counts them.</summary>
    private static string? ValidateLength(ModelErrors model, string field, string? value, int min, int max)
    {
        if (value is null)
        {
            return null;
        }

        var length = PythonText.CodePoints(value);
        if (length < min)
        {
            model.Invalid(field, $"ensure this value has at least {min} characters");
            return null;
        }

        if (length > max)
        {
            model.Invalid(field, $"ensure this value has at most {max} characters");
            return null;
        }

        return value;
    }
}
