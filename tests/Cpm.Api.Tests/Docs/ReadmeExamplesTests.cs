using System.Text;
using System.Text.RegularExpressions;
using Cpm.Api.Tests.Infrastructure;
using Cpm.Api.Tests.Reliability;

namespace Cpm.Api.Tests.Docs;

/// <summary>
/// The shell examples of README.md and docs/*.md run as written, so they cannot break unnoticed.
/// Every <c>```sh</c> block that calls the service through <c>$API</c> runs, in document order, in
/// one bash session (<see cref="ExampleShell"/>) against the real service process started as the
/// README starts it (Development, key <c>local-dev-key</c>, appsettings.Development.json) with a
/// fake ODS. One substitution: the README's <c>API=http://127.0.0.1:5080</c> gets the process's
/// free port instead, and nothing else in the examples may name port 5080. Every answer must have
/// the status listed for it below, in order; every other <c>```sh</c> block is excluded by name,
/// with the reason.
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

        // docs/API.md, continuing in the same shell: a rename to the name the team already has, paging, a new idempotent POST
        "200 GET /ProductTeam/{uuid}",
        "200 PATCH /ProductTeam/{uuid}",
        "200 GET /Product?organisation_code=F5H1R&limit=1",
        "200 GET /Product?organisation_code=F5H1R&limit=1&cursor={cursor}",
        "201 POST /ProductTeam/{uuid}/Product",
    ];

    /// <summary>The <c>```sh</c> blocks that do not run, by file and heading, and why.</summary>
    private static readonly Dictionary<(string File, string Heading), string> NotRun = new()
    {
        [("README.md", "Two commands")] = "starts the service and runs the tests: these tests start the same service themselves and are among those tests",
        [("README.md", "Running against DynamoDB")] = "starts moto on port 5000 and the service in the foreground: the DynamoDB test starts the service with this block's settings on the test run's moto instead",
        [("docs/DEPLOY.md", "Deploy")] = "needs an AWS account and a deployed stack",
        [("docs/DEPLOY.md", "Api keys in SSM")] = "needs an AWS account and a deployed stack",
        [("docs/DYNAMODB.md", "Running locally against moto")] = "installs moto, starts it on port 5000 and the service in the foreground, as the README's DynamoDB block does",
        [("docs/DYNAMODB.md", "Running on AWS")] = "needs an AWS account",
        [("docs/DYNAMODB.md", "Export and import")] = "needs a DynamoDB table on AWS; the README's import example runs instead",
        [("docs/PERFORMANCE.md", "The command")] = "the load benchmark: about 10 minutes, not part of the tests",
        [("docs/RELIABILITY.md", "Reliability: what the service guarantees, and the test that proves each")] = "runs tests",
        [("docs/UI.md", "Refreshing NHS.UK frontend, or changing a page template")] = "needs npm and the npm registry",
        [("docs/UI.md", "Tests")] = "runs tests",
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
        var unaccounted = blocks
            .Where(block => !CallsTheService(block) && !NotRun.ContainsKey((block.File, block.Heading)))
            .Select(block => $"{block.File} under '{block.Heading}'")
            .ToList();
        var stale = NotRun.Keys
            .Where(key => !blocks.Any(block => !CallsTheService(block) && (block.File, block.Heading) == key))
            .Select(key => $"{key.File} under '{key.Heading}'")
            .ToList();

        Assert.True(unaccounted.Count == 0, "Shell blocks neither run (they do not call $API) nor excluded in NotRun: " + string.Join("; ", unaccounted));
        Assert.True(stale.Count == 0, "NotRun names headings without a shell block that is not run: " + string.Join("; ", stale));
        Assert.Contains(blocks, block => block.File == "README.md" && CallsTheService(block));
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
        Assert.Equal(1, Regex.Count(script, Regex.Escape(ReadmeApi)));
        script = script.Replace(ReadmeApi, "API=" + service.BaseUrl, StringComparison.Ordinal);
        Assert.DoesNotContain(":5080", script, StringComparison.Ordinal);

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
