using System.Globalization;
using System.Numerics;
using Cpm.Api.Wire;

namespace Cpm.Api.Http;

/// <summary>
/// Collects the errors of one request model the way the existing service (pydantic) reports
/// them: <c>&lt;Model&gt;.&lt;field path&gt;: &lt;message&gt;</c>, all at once, in the order added.
/// Callers add declared fields in declaration order, then <see cref="RejectUnknownFields"/>,
/// then whole-model rules.
/// </summary>
internal sealed class ModelErrors(string model)
{
    public const string FieldRequired = "field required";
    public const string NoneNotAllowed = "none is not an allowed value";
    public const string StrTypeExpected = "str type expected";
    public const string NotAList = "value is not a valid list";
    public const string NotADict = "value is not a valid dict";
    public const string ExtraField = "extra fields not permitted";
    public const string Blank = "ensure this value has at least 1 characters";
    public const int MaxNameLength = 255;

    private readonly List<ApiError> _errors = [];

    public string Model => model;

    public bool HasErrors => _errors.Count > 0;

    public IReadOnlyList<ApiError> Errors => _errors;

    public void Missing(string path) =>
        _errors.Add(new ApiError(ErrorCodes.MissingValue, $"{model}.{path}: {FieldRequired}"));

    public void Invalid(string path, string message) =>
        _errors.Add(new ApiError(ErrorCodes.ValidationError, $"{model}.{path}: {message}"));

    public void RejectUnknownFields(IEnumerable<string> given, params string[] declared)
    {
        foreach (var name in given.Where(name => !declared.Contains(name)).Order(StringComparer.Ordinal))
        {
            Invalid(name, ExtraField);
        }
    }

    /// <summary>
    /// A required string field, coerced as pydantic does (numbers and booleans become their
    /// Python text). Returns null, with the error recorded, when there is no usable string.
    /// </summary>
    public string? RequiredString(IReadOnlyDictionary<string, object?> body, string field, string? path = null)
    {
        path ??= field;
        if (!body.TryGetValue(field, out var value))
        {
            Missing(path);
            return null;
        }

        var text = AsPythonString(value, out var problem);
        if (problem is not null)
        {
            Invalid(path, problem);
        }

        return text;
    }

    /// <summary>
    /// A required name: a string, not blank, at most 255 characters, matching the contract's pattern
    /// (checked with <paramref name="matches"/>, reported with <paramref name="pattern"/>), and free of
    /// control and formatting characters. One error per field, as pydantic gives.
    /// </summary>
    public string? RequiredName(IReadOnlyDictionary<string, object?> body, string field, Func<string, bool> matches, string pattern)
    {
        var name = RequiredString(body, field);
        if (name is null)
        {
            return null;
        }

        if (PythonText.IsBlank(name))
        {
            Invalid(field, Blank);
            return null;
        }

        if (name.Length > MaxNameLength && PythonText.CodePoints(name) > MaxNameLength)
        {
            Invalid(field, $"ensure this value has at most {MaxNameLength} characters");
            return null;
        }

        if (!matches(name))
        {
            Invalid(field, $"string does not match regex \"{pattern}\"");
            return null;
        }

        if (PythonText.HasControlOrFormatCharacters(name))
        {
            Invalid(field, "string contains control or formatting characters");
            return null;
        }

        return name;
    }

    /// <summary>A body of one field, <c>name</c>, as <see cref="RequiredName"/> checks it: the name, or null with the errors.</summary>
    public string? OnlyName(JsonDict body, Func<string, bool> matches, string pattern, out IReadOnlyList<ApiError> errors)
    {
        const string nameField = "name";
        var name = RequiredName(body, nameField, matches, pattern);
        RejectUnknownFields(body.Keys, nameField);
        errors = Errors;
        return HasErrors ? null : name;
    }

    /// <summary>pydantic's <c>str</c> validator: the text, or null with the reason it was refused.</summary>
    public static string? AsPythonString(object? value, out string? problem)
    {
        problem = null;
        switch (value)
        {
            case string text:
                return text;
            case bool flag:
                return flag ? "True" : "False";
            case BigInteger integer:
                return integer.ToString(CultureInfo.InvariantCulture);
            case double number:
                return PythonFloat.Repr(number);
            case null:
                problem = NoneNotAllowed;
                return null;
            default:
                problem = StrTypeExpected;
                return null;
        }
    }
}
