using System.Text;
using System.Text.RegularExpressions;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Docs;

/// <summary>
/// The shell examples of README.md and docs/*.md run as written, so they cannot break unnoticed.
/// Every <c>```sh</c> block that calls the service through <c>$API</c> runs, in document order, in
/// one bash session (<see cref="ExampleShell"/>) against the real service process started as the
/// README starts it (Development, key <c>local-dev-key</c>, appsettings.Development.json) with a
/// fake ODS. Two substitutions: the README's <c>API=http://127.0.0.1:5080</c> gets the process's
/// free port instead (nothing else in the examples may name port 5080), and <c>dotnet run
/// --project src/Cpm.Api -- ...</c> runs the Cpm.Api.dll built next to the tests rather than
/// building it again. Every answer must have the status listed for it below, in order; every
/// other <c>```sh</c> block is excluded by name, with the reason.
/// </summary>
public sealed partial class ReadmeExamplesTests
{
    private const string ReadmeApi = "API=http://127.0.0.1:5080";
    private const string DevelopmentKey = "local-dev-key";

    /// <summary>
    /// One line per answer, in document order (README.md, then docs/*.md by name): status, method
    /// and path, with team ids and aliases as {uuid}, product ids as {product} and cursors as
    /// {cursor}; for the import command, its exit code.
    /// </summary>
    private static readonly string[] ExpectedAnswers =
    [
        // README.md: Using the API
        "201 POST /ProductTeam",
        "200 GET /ProductTeam/{uuid}",
        "200 GET /ProductTeam/{uuid}",
        "200 GET /ProductTeam?organisation_code=F5H1R",
        "201 POST /ProductTeam/{uuid}/Product",
        "200 GET /Product/{product}",
        "200 GET /Product?product_team_id={uuid}",
        "200 GET /Product?organisation_code=F5H1R",
        "409 DELETE /ProductTeam/{uuid}",
        "200 DELETE /ProductTeam/{uuid}/Product/{product}",
        "200 DELETE /ProductTeam/{uuid}",
        "200 GET /_status",
        "200 GET /_ping",
        "200 GET /_ready",

        // README.md: Beyond the existing service
        "404 GET /Product/{product}",
        "200 GET /Product/{product}?include_deleted=true",
        "200 POST /ProductTeam/{uuid}/Restore",
        "200 POST /ProductTeam/{uuid}/Product/{product}/Restore",
        "200 GET /ProductTeam/{uuid}",
        "200 PATCH /ProductTeam/{uuid}",
        "412 PATCH /ProductTeam/{uuid}",
        "200 PATCH /ProductTeam/{uuid}/Product/{product}",
        "200 GET /ProductTeam/{uuid}/History",
        "200 GET /Product/{product}/History",
        "200 GET /Events?limit=5",
        "200 GET /Events?after={cursor}&limit=100",
        "201 POST /ProductTeam/{uuid}/Product",
        "201 POST /ProductTeam/{uuid}/Product",
        "200 GET /Product?organisation_code=F5H1R&limit=1",
        "200 GET /Product?organisation_code=F5H1R&limit=1&cursor={cursor}",
        "200 GET /Export",
        "exit 0 dotnet run import",

        // README.md: Webhook subscriptions
        "201 POST /Webhooks",
        "200 GET /Webhooks",
        "200 GET /Webhooks/{uuid}",
        "200 DELETE /Webhooks/{uuid}",

        // docs/API.md, continuing in the same shell: a rename to the name the team already has, paging, a new idempotent POST
        "200 GET /ProductTeam/{uuid}",
        "200 PATCH /ProductTeam/{uuid}",
        "200 GET /Product?organisation_code=F5H1R&limit=1",
        "200 GET /Product?organisation_code=F5H1R&limit=1&cursor={cursor}",
        "201 POST /ProductTeam/{uuid}/Product",
    ];

    /// <summary>
    /// The <c>```sh</c> blocks that do not run, by file and heading, with how many there are under
    /// that heading (so a new block is never excluded unseen) and why.
    /// </summary>
    private static readonly Dictionary<(string File, string Heading), (int Blocks, string Reason)> NotRun = new()
    {
        [("README.md", "Two commands")] = (2, "starts the service and runs the tests: these tests start the same service themselves and are among those tests"),
        [("README.md", "Running against DynamoDB")] = (1, "starts moto on port 5000 and the service in the foreground: the DynamoDB test starts the service with this block's settings on the test run's moto instead"),
        [("README.md", "Web UI and API docs")] = (1, "runs the OpenAPI linter, which the OpenAPI tests run on the same file"),
        [("docs/DEPLOY.md", "The container image")] = (2, "needs a Docker engine and the base image's registry; the container tests run the offline check instead"),
        [("docs/DEPLOY.md", "Smoke tests")] = (1, "needs a deployment; the smoke test project runs in the suite against the published service"),
        [("docs/DEPLOY.md", "Deploy")] = (3, "needs an AWS account and a deployed stack"),
        [("docs/DEPLOY.md", "Api keys in SSM")] = (2, "needs an AWS account and a deployed stack"),
        [("docs/DYNAMODB.md", "Running locally against moto")] = (1, "installs moto, starts it on port 5000 and the service in the foreground, as the README's DynamoDB block does"),
        [("docs/DYNAMODB.md", "Running on AWS")] = (1, "needs an AWS account"),
        [("docs/DYNAMODB.md", "Export and import")] = (1, "needs a DynamoDB table on AWS; the README's import example runs instead"),
        [("docs/FLEET.md", "A fleet: several instances on one DynamoDB table")] = (1, "runs tests"),
        [("docs/PERFORMANCE.md", "The command")] = (1, "the load benchmark: about 10 minutes, not part of the tests"),
        [("docs/RELIABILITY.md", "Reliability: what the service guarantees, and the test that proves each")] = (1, "runs tests"),
        [("docs/UI.md", "Refreshing NHS.UK frontend, or changing a page template")] = (1, "needs npm and the npm registry"),
        [("docs/UI.md", "Tests")] = (2, "installs the test OpenID provider with npm, and runs tests"),
    };

    [Fact]
    public async Task ReadmeExamplesRunAsWrittenAndEveryAnswerHasItsExpectedStatus()
    {
        var directory = Directory.CreateTempSubdirectory("cpm-readme-").FullName;
        try
        {
            await using var ord = await FakeOrd.StartAsync();
            await using var service = await StartAsReadmeDoesAsync(Path.Combine(directory, "cpm.db"), ord.BaseUrl, []);
            await AssertExamplesAnswerAsExpectedAsync(service);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task ReadmeExamplesAnswerTheSameOnDynamoDbStartedWithTheReadmeSettings()
    {
        var moto = await MotoServer.SharedAsync();
        var directory = Directory.CreateTempSubdirectory("cpm-readme-").FullName;
        try
        {
            await using var ord = await FakeOrd.StartAsync();

            // The table holds only the few rows the examples write, so it stays in the run's moto.
            var settings = DynamoDbSettings(moto.Url, $"cpm-readme-{Guid.NewGuid():N}");
            await using var service = await StartAsReadmeDoesAsync(Path.Combine(directory, "unused.db"), ord.BaseUrl, settings);
            await AssertExamplesAnswerAsExpectedAsync(service);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void EveryShellBlockIsRunOrExcludedWithAReason()
    {
        var blocks = ShellBlock.All();
        var notRun = blocks.Where(block => !CallsTheService(block))
            .GroupBy(block => (block.File, block.Heading))
            .ToDictionary(group => group.Key, group => group.Count());

        Assert.Equal(
            NotRun.ToDictionary(excluded => excluded.Key, excluded => excluded.Value.Blocks).OrderBy(pair => pair.Key),
            notRun.OrderBy(pair => pair.Key));
        Assert.Contains(blocks, block => block.File == "README.md" && CallsTheService(block));

        // A block that talks to a local service does so through $API, so it runs.
        Assert.DoesNotContain(blocks, block => !CallsTheService(block) && block.Text.Contains(":5080", StringComparison.Ordinal));
    }

    private static bool CallsTheService(ShellBlock block) => block.Text.Contains("$API", StringComparison.Ordinal);

    /// <summary>As the README's <c>dotnet run</c> does: Development, so appsettings.Development.json supplies the keys.</summary>
    private static Task<ServiceProcess> StartAsReadmeDoesAsync(string databasePath, string odsBaseUrl, string[] settings) =>
        ServiceProcess.StartAsync(databasePath, odsBaseUrl, DevelopmentKey, ["--environment", "Development", .. settings]);

    /// <summary>
    /// The <c>--Storage:...</c> settings of the README's DynamoDB block, with the test run's moto as
    /// <c>ServiceUrl</c> and a table of this test's own.
    /// </summary>
    private static string[] DynamoDbSettings(string motoUrl, string tableName)
    {
        var block = ShellBlock.All().Single(block => block.File == "README.md" && block.Heading == "Running against DynamoDB");
        var settings = StorageSetting().Matches(block.Text)
            .Select(setting => setting.Groups[1].Value switch
            {
                "Storage:DynamoDb:ServiceUrl" => $"--Storage:DynamoDb:ServiceUrl={motoUrl}",
                "Storage:DynamoDb:TableName" => $"--Storage:DynamoDb:TableName={tableName}",
                _ => setting.Value,
            })
            .ToArray();
        Assert.Contains("--Storage:Provider=DynamoDb", settings);
        Assert.Contains($"--Storage:DynamoDb:ServiceUrl={motoUrl}", settings);
        Assert.Contains($"--Storage:DynamoDb:TableName={tableName}", settings);
        return settings;
    }

    private static async Task AssertExamplesAnswerAsExpectedAsync(ServiceProcess service)
    {
        var script = string.Concat(ShellBlock.All().Where(CallsTheService).Select(block => block.Text));
        Assert.True(Regex.Count(script, Regex.Escape(ReadmeApi)) == 1, $"The examples must set {ReadmeApi} exactly once: the test gives that line the service's port.");
        script = script.Replace(ReadmeApi, "API=" + service.BaseUrl, StringComparison.Ordinal);
        Assert.False(script.Contains(":5080", StringComparison.Ordinal), "An example names port 5080 other than through $API, so it cannot run against the test's service.");

        var run = await ExampleShell.RunAsync(script);

        var answers = run.Answers.Select(answer => Normalise(answer, service.BaseUrl)).ToList();
        if (run.ExitCode != 0 || !answers.SequenceEqual(ExpectedAnswers))
        {
            Assert.Fail(Report(run, answers, service.Output));
        }
    }

    private static string Normalise(string answer, string baseUrl)
    {
        var path = answer.Replace(baseUrl, "", StringComparison.Ordinal);
        path = Uuid().Replace(path, "{uuid}");
        path = ProductId().Replace(path, "{product}");
        return Cursor().Replace(path, "$1={cursor}");
    }

    private static string Report(ExampleRun run, List<string> answers, string serviceOutput)
    {
        var report = new StringBuilder($"The examples ended with exit code {run.ExitCode}. Expected answers, then what came:\n");
        for (var index = 0; index < Math.Max(answers.Count, ExpectedAnswers.Length); index++)
        {
            var expected = index < ExpectedAnswers.Length ? ExpectedAnswers[index] : "(nothing)";
            var actual = index < answers.Count ? answers[index] : "(nothing)";
            report.Append(expected == actual ? "   " : "!! ").Append(expected).Append("  |  ").AppendLine(actual);
        }

        return report
            .AppendLine("--- bash stderr").AppendLine(run.Errors)
            .AppendLine("--- bash stdout").AppendLine(run.Output)
            .AppendLine("--- service output").AppendLine(serviceOutput)
            .ToString();
    }

    [GeneratedRegex(@"--(Storage:[A-Za-z:]+)=\S+")]
    private static partial Regex StorageSetting();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex Uuid();

    [GeneratedRegex(@"P\.[ACDEFGHJKLMNPRTUVWXY34679]{3}-[ACDEFGHJKLMNPRTUVWXY34679]{3}")]
    private static partial Regex ProductId();

    [GeneratedRegex("(cursor|after)=[^&]+")]
    private static partial Regex Cursor();
}
