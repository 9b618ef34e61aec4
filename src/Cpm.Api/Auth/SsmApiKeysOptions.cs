namespace Cpm.Api.Auth;

/// <summary>The SSM part of the <c>Auth</c> section: where more api keys are kept in production.</summary>
internal sealed class SsmApiKeysOptions
{
    /// <summary>Name or ARN of the Parameter Store parameter (a SecureString) holding the keys.</summary>
    public string ApiKeysParameter { get; set; } = "";

    /// <summary>An endpoint override, for a local SSM such as moto; unset means the region's endpoint.</summary>
    public Uri? SsmServiceUrl { get; set; }
}
