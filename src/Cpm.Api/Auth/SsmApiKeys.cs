using System.Text.Json;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Microsoft.Extensions.Options;
using ZLogger;

namespace Cpm.Api.Auth;

/// <summary>
/// Reads the api keys in the <c>Auth:ApiKeysParameter</c> SSM parameter once, at start-up (the
/// auth options are validated on start), and appends them to <c>Auth:ApiKeys</c>. The value is
/// either one key per line or a JSON array of strings. Errors name the parameter, never a key.
/// </summary>
internal sealed partial class SsmApiKeys : IPostConfigureOptions<AuthOptions>
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    private readonly SsmApiKeysOptions _options;
    private readonly ILogger<SsmApiKeys> _logger;
    private readonly AWSCredentials? _credentials;
    private readonly Lazy<IReadOnlyList<string>> _keys;

    // Credentials are registered only where the SDK's default chain (environment, profile, ECS
    // task role) must not be used, as in tests against moto.
    public SsmApiKeys(IOptions<SsmApiKeysOptions> options, ILogger<SsmApiKeys> logger, AWSCredentials? credentials = null)
    {
        _options = options.Value;
        _logger = logger;
        _credentials = credentials;
        // IOptions and IOptionsMonitor each build AuthOptions; the parameter is read only once.
        _keys = new Lazy<IReadOnlyList<string>>(Read);
    }

    public void PostConfigure(string? name, AuthOptions options)
    {
        if (name == Options.DefaultName)
        {
            options.ApiKeys.AddRange(_keys.Value);
        }
    }

    /// <summary>The keys in a parameter value, or null when it is neither format.</summary>
    internal static IReadOnlyList<string>? Parse(string value)
    {
        var text = value.Trim();
        if (!text.StartsWith('['))
        {
            return text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0).ToArray();
        }

        try
        {
            var keys = JsonSerializer.Deserialize<string?[]>(text);
            return keys is null || keys.Any(string.IsNullOrWhiteSpace) ? null : keys.Select(key => key!.Trim()).ToArray();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private IReadOnlyList<string> Read()
    {
        var parameterName = _options.ApiKeysParameter;
        Parameter parameter;
        try
        {
            using var client = CreateClient();
            using var timeout = new CancellationTokenSource(ReadTimeout);
            // Start-up is synchronous here and ASP.NET Core has no synchronization context to deadlock on.
            parameter = client.GetParameterAsync(new GetParameterRequest { Name = parameterName, WithDecryption = true }, timeout.Token)
                .GetAwaiter().GetResult().Parameter;
        }
        catch (Exception failure) when (failure is AmazonServiceException or AmazonClientException or HttpRequestException or OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"Could not read the api keys from SSM parameter '{parameterName}' (Auth:ApiKeysParameter): {Describe(failure)}", failure);
        }

        if (Parse(parameter.Value) is not { Count: > 0 } keys)
        {
            // The value is not quoted: a malformed value may still be mostly keys.
            throw new InvalidOperationException(
                $"SSM parameter '{parameterName}' (Auth:ApiKeysParameter) holds no api keys: put one key per line, or a JSON array of non-empty strings.");
        }

        if (parameter.Type != ParameterType.SecureString)
        {
            LogNotSecure(parameterName, parameter.Type.Value);
        }

        LogRead(keys.Count, parameterName);
        return keys;
    }

    private AmazonSimpleSystemsManagementClient CreateClient()
    {
        var config = new AmazonSimpleSystemsManagementConfig { Timeout = TimeSpan.FromSeconds(10) };
        if (_options.SsmServiceUrl is { } serviceUrl)
        {
            config.ServiceURL = serviceUrl.ToString();
        }

        return _credentials is null ? new AmazonSimpleSystemsManagementClient(config) : new AmazonSimpleSystemsManagementClient(_credentials, config);
    }

    private static string Describe(Exception failure) => failure switch
    {
        AmazonServiceException service when string.IsNullOrEmpty(service.Message) => $"{service.ErrorCode} (HTTP {(int)service.StatusCode})",
        AmazonServiceException service => $"{service.ErrorCode} (HTTP {(int)service.StatusCode}): {service.Message}",
        OperationCanceledException => $"no answer within {ReadTimeout.TotalSeconds:0} s",
        _ => failure.Message,
    };

    [ZLoggerMessage(LogLevel.Information, "Read {KeyCount} api keys from SSM parameter {Parameter}")]
    private partial void LogRead(int keyCount, string parameter);

    [ZLoggerMessage(LogLevel.Warning, "SSM parameter {Parameter} is a {Type}, not a SecureString: the api keys in it are stored unencrypted")]
    private partial void LogNotSecure(string parameter, string type);
}
