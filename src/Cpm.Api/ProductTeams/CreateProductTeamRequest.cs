using System.Text.RegularExpressions;
using Cpm.Api.Http;
using Cpm.Api.Wire;

namespace Cpm.Api.ProductTeams;

/// <summary><c>CreateProductTeamIncomingParams</c>: the body of <c>POST /ProductTeam</c> and its rules.</summary>
internal sealed partial record CreateProductTeamRequest(string OdsCode, string Name, IReadOnlyList<ProductTeamKey> Keys)
{
    public const string Model = "CreateProductTeamIncomingParams";
    public const string NamePattern = @"^\S+( \S+)*$";
    public const string AliasPattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

    private const string OdsCodeField = "ods_code";
    private const string NameField = "name";
    private const string KeysField = "keys";
    private const string KeyTypeField = "key_type";
    private const string KeyValueField = "key_value";

    public static CreateProductTeamRequest? Validate(JsonDict body, out IReadOnlyList<ApiError> errors)
    {
        var model = new ModelErrors(Model);
        var odsCode = model.RequiredString(body, OdsCodeField);
        var name = model.RequiredName(body, NameField, PythonText.IsSingleSpacedWords, NamePattern);
        var keys = ValidateKeys(model, body);
        model.RejectUnknownFields(body.Keys, OdsCodeField, NameField, KeysField);
        errors = model.Errors;
        return model.HasErrors ? null : new CreateProductTeamRequest(odsCode!, name!, keys!);
    }

    private static List<ProductTeamKey>? ValidateKeys(ModelErrors model, JsonDict body)
    {
        if (!body.TryGetValue(KeysField, out var value))
        {
            return [];
        }

        if (value is not List<object?> items)
        {
            model.Invalid(KeysField, value is null ? ModelErrors.NoneNotAllowed : ModelErrors.NotAList);
            return null;
        }

        var keys = new List<ProductTeamKey>();
        for (var index = 0; index < items.Count; index++)
        {
            if (ValidateKey(model, items[index], $"{KeysField}.{index}") is { } key)
            {
                keys.Add(key);
            }
        }

        if (keys.Count < items.Count)
        {
            return null;
        }

        if (keys.Count(key => key.KeyType == ProductTeamKey.ProductTeamIdType) > 1)
        {
            model.Invalid(KeysField, $"Ensure that {ProductTeamKey.ProductTeamIdType} only exists once within keys.");
            return null;
        }

        return keys;
    }

    /// <summary>One key; fields other than key_type and key_value are ignored.</summary>
    private static ProductTeamKey? ValidateKey(ModelErrors model, object? item, string path)
    {
        if (item is not JsonDict key)
        {
            model.Invalid(path, item is null ? ModelErrors.NoneNotAllowed : ModelErrors.NotADict);
            return null;
        }

        string? keyType = null;
        if (!key.TryGetValue(KeyTypeField, out var type))
        {
            model.Missing($"{path}.{KeyTypeField}");
        }
        else if (type is null)
        {
            model.Invalid($"{path}.{KeyTypeField}", ModelErrors.NoneNotAllowed);
        }
        else if (type is string text && text == ProductTeamKey.ProductTeamIdType)
        {
            keyType = text;
        }
        else
        {
            model.Invalid($"{path}.{KeyTypeField}", $"value is not a valid enumeration member; permitted: '{ProductTeamKey.ProductTeamIdType}'");
        }

        var keyValue = model.RequiredString(key, KeyValueField, $"{path}.{KeyValueField}");
        if (keyType is null || keyValue is null)
        {
            return null;
        }

        if (!AliasRegex().IsMatch(keyValue))
        {
            model.Invalid($"{path}.{KeyValueField}",
                $"Key '{keyValue}' does not match the expected pattern '{AliasPattern}' associated with key type '{keyType}'");
            return null;
        }

        return new ProductTeamKey(keyType, keyValue);
    }

    // \z rather than $: a trailing newline is not part of a valid id.
    [GeneratedRegex(@"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\z", RegexOptions.CultureInvariant)]
    private static partial Regex AliasRegex();
}
