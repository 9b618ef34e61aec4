using System.Net;
using System.Security.Claims;
using System.Xml.Linq;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Cpm.Api.Auth;
using Cpm.Api.Storage;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cpm.Api.Tests.Auth;

/// <summary>
/// With sign-in on, the Data Protection key ring is in the store: what one instance protects
/// (a session, an anti-forgery token) another instance on the same store reads, and so does an
/// instance started again, as behind a load balancer and across redeploys (docs/DEPLOY.md).
/// </summary>
public abstract class SharedKeyRingTests : IAsyncLifetime
{
    // Nothing here calls ODS or the provider: the provider's metadata is fetched only on a sign-in.
    private const string NoOds = "http://127.0.0.1:9";
    private const string Purpose = "cpm-tests-shared-key-ring";

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Auth:Oidc:Authority"] = "http://127.0.0.1:9/issuer",
        ["Auth:Oidc:RequireHttpsMetadata"] = "false",
        ["Auth:Oidc:ClientId"] = "cpm-ui",
    };

    public async Task InitializeAsync()
    {
        foreach (var (key, value) in await CreateStoreAsync())
        {
            _settings[key] = value;
        }
    }

    public abstract Task DisposeAsync();

    [Fact]
    public async Task WhatOneInstanceProtectsAnotherReadsAndSoDoesARestartedOne()
    {
        string protectedPayload;
        await using (var first = Start())
        {
            // Made and stored as the instance started, after the store's own start-up (a local table is created first).
            Assert.Single(await StoredKeysAsync(first.Services));
            await using var second = Start();
            protectedPayload = Protector(first).Protect("a person's session");
            Assert.Equal("a person's session", Protector(second).Unprotect(protectedPayload));
        }

        await using var restarted = Start();
        Assert.Equal("a person's session", Protector(restarted).Unprotect(protectedPayload));

        // The one key the first instance made is in the store, under the name the framework gave it.
        var stored = Assert.Single(await StoredKeysAsync(restarted.Services));
        var keyId = Assert.Single(restarted.Services.GetRequiredService<IKeyManager>().GetAllKeys()).KeyId;
        Assert.Equal($"key-{keyId}", stored.Name);
        Assert.Equal(keyId.ToString(), XElement.Parse(stored.Xml).Attribute("id")!.Value);
        await ForgetStoreAsync(restarted.Services);
    }

    [Fact]
    public async Task ASessionAndAntiforgeryTokenFromOneInstanceAreAcceptedByAnother()
    {
        await using var first = Start();
        await using var second = Start();

        // Exactly what the cookie handler writes after a sign-in at the provider.
        var cookie = first.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(PersonSessions.CookieScheme);
        var person = new ClaimsPrincipal(new ClaimsIdentity([new Claim("preferred_username", "rita.reader"), new Claim("cpm_scopes", "read")], PersonSessions.OidcScheme));
        var session = "cpm-session=" + cookie.TicketDataFormat.Protect(new AuthenticationTicket(person, PersonSessions.CookieScheme));

        var signedIn = await second.Client(apiKey: null).GetAsync("/session", ("Cookie", session));
        signedIn.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("rita.reader", (string)signedIn.Json()["name"]!);
        var token = (string)signedIn.Json()["antiforgery_token"]!;
        var antiforgery = signedIn.Response.Headers.GetValues("Set-Cookie").Single(value => value.StartsWith("cpm-antiforgery=", StringComparison.Ordinal)).Split(';')[0];

        // Past authentication and the anti-forgery check on the first instance: the team is simply not there.
        (await first.Client(apiKey: null).GetAsync("/ProductTeam/no-such-team", ("Cookie", $"{session}; {antiforgery}"), ("X-CSRF-Token", token)))
            .AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "Could not find ProductTeam for key ('no-such-team')");

        // Both instances hold the store's one key and nothing else.
        var stored = Assert.Single(await StoredKeysAsync(first.Services));
        Assert.All(new[] { first, second }, instance => Assert.Equal(
            stored.Name, $"key-{Assert.Single(instance.Services.GetRequiredService<IKeyManager>().GetAllKeys()).KeyId}"));
        await ForgetStoreAsync(first.Services);
    }

    [Fact]
    public async Task AKeyIsStoredOnceAndNeverReplaced()
    {
        await using var instance = Start();
        var store = instance.Services.GetRequiredService<ICpmStore>();

        await store.AddProtectionKeyAsync("key-a", "<key id=\"a\" />", CancellationToken.None);
        await store.AddProtectionKeyAsync("key-a", "<key id=\"replaced\" />", CancellationToken.None);
        await store.AddProtectionKeyAsync("key-b", "<key id=\"b\" />", CancellationToken.None);

        // Beside the key the instance made as it started.
        var keys = await store.ReadProtectionKeysAsync(CancellationToken.None);
        Assert.Contains("<key id=\"a\" />", keys);
        Assert.Contains("<key id=\"b\" />", keys);
        Assert.DoesNotContain("<key id=\"replaced\" />", keys);
        await ForgetStoreAsync(instance.Services);
    }

    /// <summary>A fresh store for this test: the settings that put the service on it.</summary>
    protected abstract Task<IReadOnlyDictionary<string, string?>> CreateStoreAsync();

    /// <summary>The key rows as the store holds them, read past the service.</summary>
    protected abstract Task<IReadOnlyList<(string Name, string Xml)>> StoredKeysAsync(IServiceProvider instance);

    /// <summary>Removes what the store keeps outside this process, with a live instance's means.</summary>
    protected virtual Task ForgetStoreAsync(IServiceProvider instance) => Task.CompletedTask;

    private static IDataProtector Protector(IsolatedService instance) =>
        instance.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose);

    private IsolatedService Start() => IsolatedService.Start(NoOds, _settings);
}

public sealed class SqliteSharedKeyRingTests : SharedKeyRingTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cpm-key-ring-").FullName;

    private string Database => Path.Combine(_directory, "cpm.db");

    public override Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    protected override Task<IReadOnlyDictionary<string, string?>> CreateStoreAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?> { ["Storage:Sqlite:Path"] = Database });

    protected override async Task<IReadOnlyList<(string Name, string Xml)>> StoredKeysAsync(IServiceProvider instance)
    {
        await using var connection = new SqliteConnection($"Data Source={Database};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, xml FROM data_protection_keys";
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<(string, string)>();
        while (await reader.ReadAsync())
        {
            keys.Add((reader.GetString(0), reader.GetString(1)));
        }

        return keys;
    }
}

public sealed class DynamoDbSharedKeyRingTests : SharedKeyRingTests
{
    private readonly string _table = $"cpm-tests-{Guid.NewGuid():N}";

    public override Task DisposeAsync() => Task.CompletedTask;

    protected override async Task<IReadOnlyDictionary<string, string?>> CreateStoreAsync() => new Dictionary<string, string?>
    {
        ["Storage:Provider"] = "DynamoDb",
        ["Storage:DynamoDb:TableName"] = _table,
        ["Storage:DynamoDb:ServiceUrl"] = (await MotoServer.SharedAsync()).Url,
        ["Storage:DynamoDb:CreateTable"] = "true",
    };

    protected override async Task<IReadOnlyList<(string Name, string Xml)>> StoredKeysAsync(IServiceProvider instance)
    {
        var rows = await instance.GetRequiredService<IAmazonDynamoDB>().QueryAsync(new QueryRequest
        {
            TableName = _table,
            ConsistentRead = true,
            KeyConditionExpression = "pk = :keys",
            ExpressionAttributeValues = new() { [":keys"] = new AttributeValue("DATA_PROTECTION_KEYS") },
        });

        // The row's whole shape, as docs/DYNAMODB.md lists it.
        Assert.All(rows.Items, row => Assert.Equal(["name", "pk", "row_type", "sk", "xml"], row.Keys.Order(StringComparer.Ordinal)));
        Assert.All(rows.Items, row => Assert.Equal(("data_protection_key", row["sk"].S), (row["row_type"].S, row["name"].S)));
        return [.. rows.Items.Select(row => (row["sk"].S, row["xml"].S))];
    }

    protected override Task ForgetStoreAsync(IServiceProvider instance) =>
        instance.GetRequiredService<IAmazonDynamoDB>().DeleteTableAsync(_table);
}
