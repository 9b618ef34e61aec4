using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Cpm.Api.Tests.Ui;

/// <summary>
/// People sign in with OpenID Connect against a real provider (oidc-provider on loopback) and
/// use the pages from their session: rename with ETags, restore, history, paging, export,
/// sign-out, and a cross-origin request carrying the cookie, refused. Every new page state has
/// no axe violation of any impact.
/// </summary>
public sealed partial class SignInTests(SignInService service, ITestOutputHelper output) : UiBrowserTests<SignInService>(service, output), IClassFixture<SignInService>
{
    private const string Admin = "alice.admin";
    private const string Reader = "rita.reader";

    [Fact]
    public async Task SigningInWithTheProviderUsesPkceAndGivesAnHttpOnlyStrictSessionAndNoApiKey()
    {
        await GoAsync("ui/");
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "API key" })).ToBeHiddenAsync();
        await CheckPageAsync("signin-home", anyImpact: true);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await LogInAtProviderAsync(Admin);
        await Expect(Page).ToHaveURLAsync(new Regex(@"/ui/$"));
        await Expect(Page.Locator("#signed-in-name")).ToHaveTextAsync(Admin);
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Restore a deleted team or product" })).ToBeVisibleAsync();
        await CheckPageAsync("signed-in-home", anyImpact: true);

        // The provider saw an authorization code request with a PKCE S256 challenge (it also refuses any without).
        Assert.Contains("authorization response_type=code code_challenge_method=S256 code_challenge=present", Service.ProviderLines);
        Assert.DoesNotContain(Service.ProviderLines, line => line.StartsWith("authorization ", StringComparison.Ordinal) && !line.Contains("S256", StringComparison.Ordinal));

        var session = (await Context.CookiesAsync()).Single(cookie => cookie.Name == "cpm-session");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
        Assert.True(session.Secure);
        Assert.Null(await Page.EvaluateAsync<string?>("sessionStorage.getItem('cpm.apiKey')"));
        Assert.Equal(0, await Page.EvaluateAsync<int>("localStorage.length"));

        // The key page offers sign-in instead of a key field: the browser holds no api key.
        await GoAsync("ui/key.html");
        await Expect(Page.GetByLabel("API key", new() { Exact = true })).ToBeHiddenAsync();
        await Expect(Page.Locator("#people-sign-in")).ToContainTextAsync("API keys are for systems");

        // What the person creates is theirs in history: the configured claim is the actor.
        await GoAsync("ui/team-new.html");
        await Page.GetByLabel("ODS code").FillAsync(Unique.OdsCode());
        await Page.GetByLabel("Team name").FillAsync("Signed In Team");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Signed In Team", Level = 1 })).ToBeVisibleAsync();
        var teamId = new Uri(Page.Url).Query["?id=".Length..];
        var history = (await Service.Api().GetAsync($"/ProductTeam/{teamId}/History")).Json();
        Assert.Equal(Admin, history["events"]![0]!["actor"]!.GetValue<string>());
    }

    [Fact]
    public async Task ASignInThatFailsAtTheProviderLandsOnTheHomePageSayingSo()
    {
        await SignInAsync(Admin);
        await Page.GotoAsync(Url("signin-oidc?code=forged&state=forged"));
        await Expect(Page).ToHaveURLAsync(new Regex(@"/ui/\?signin=failed$"));
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync("Signing in did not complete");
        await CheckPageAsync("signin-failed", anyImpact: true);
    }

    [Fact]
    public async Task RenamingWithAStaleVersionSaysSomeoneElseChangedItAndShowsTheCurrentName()
    {
        var api = Service.Api();
        var team = await api.CreateTeamAsync(name: "Renal Team");
        var teamId = team["id"]!.GetValue<string>();
        await SignInAsync(Admin);
        await GoAsync($"ui/team.html?id={teamId}");
        await Page.GetByRole(AriaRole.Link, new() { Name = "Rename this team" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Rename the product team", Level = 1 })).ToBeVisibleAsync();
        await Expect(Page.Locator("#current-name")).ToHaveTextAsync("Renal Team");
        await CheckPageAsync("rename-team", anyImpact: true);

        // Someone else renames it after this page read its version.
        await RenameThroughApiAsync($"/ProductTeam/{teamId}", "Kidney Team");

        await Page.GetByLabel("New name").FillAsync("Renal Medicine Team");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save the new name" }).ClickAsync();
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync("Your change was not saved.");
        await Expect(Page.Locator("#name-error")).ToContainTextAsync("Someone else changed this team while you were editing it. Its name is now \u201cKidney Team\u201d.");
        await Expect(Page.Locator("#current-name")).ToHaveTextAsync("Kidney Team");
        await CheckPageAsync("rename-conflict", anyImpact: true);
        Assert.Equal("Kidney Team", (await api.GetAsync($"/ProductTeam/{teamId}")).Json()["name"]!.GetValue<string>());

        // Saving again is a choice made knowing the other change: it now carries the current version.
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save the new name" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Renal Medicine Team", Level = 1 })).ToBeVisibleAsync();
        await Expect(Page.Locator(".nhsuk-notification-banner--success")).ToContainTextAsync("The team is now called Renal Medicine Team.");
        await CheckPageAsync("team-renamed", anyImpact: true);
        var renamed = await api.GetAsync($"/ProductTeam/{teamId}");
        Assert.Equal("Renal Medicine Team", renamed.Json()["name"]!.GetValue<string>());
        Assert.Equal("W/\"3\"", renamed.Header("ETag"));
    }

    [Fact]
    public async Task RenamingAProductShowsTheContractsErrorsThenSavesIt()
    {
        var api = Service.Api();
        var teamId = (await api.CreateTeamAsync(name: "Eye Team"))["id"]!.GetValue<string>();
        var product = (await api.CreateProductAsync(teamId, "Retina Scans"))["id"]!.GetValue<string>();
        await SignInAsync(Admin);
        await GoAsync($"ui/product.html?id={product}");
        await Page.GetByRole(AriaRole.Link, new() { Name = "Rename this product" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Rename the product", Level = 1 })).ToBeVisibleAsync();

        await Page.GetByLabel("New name").FillAsync("Scans \u00e9");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save the new name" }).ClickAsync();
        await Expect(Page.Locator("#name-error")).ToContainTextAsync("string does not match regex");
        await ExpectErrorSummaryFocusedAsync();
        await CheckPageAsync("rename-product-errors", anyImpact: true);

        await Page.GetByLabel("New name").FillAsync("Retina Images");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save the new name" }).ClickAsync();
        await Expect(Page.Locator(".nhsuk-notification-banner--success")).ToContainTextAsync("The product is now called Retina Images.");
        await Expect(Page.Locator("#product-summary")).ToContainTextAsync("Retina Images");
        Assert.Equal("Retina Images", (await api.GetAsync($"/Product/{product}")).Json()["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task ADeletedTeamAndProductAreShownAsDeletedAndRestoredTeamFirst()
    {
        var api = Service.Api();
        var teamId = (await api.CreateTeamAsync(name: "Audiology Team"))["id"]!.GetValue<string>();
        var product = (await api.CreateProductAsync(teamId, "Hearing Tests"))["id"]!.GetValue<string>();
        (await api.DeleteAsync($"/ProductTeam/{teamId}/Product/{product}")).AssertStatus(HttpStatusCode.OK);
        (await api.DeleteAsync($"/ProductTeam/{teamId}")).AssertStatus(HttpStatusCode.OK);
        await SignInAsync(Admin);
        await GoAsync("ui/restore.html");
        await CheckPageAsync("restore", anyImpact: true);

        // The product cannot come back before its team: the API's conflict is shown.
        await Page.GetByLabel("Product id").FillAsync(product);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Find the product" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Deleted product: Hearing Tests" })).ToBeFocusedAsync();
        await Expect(Page.Locator("#found-summary .nhsuk-tag")).ToHaveTextAsync("Deleted");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Restore this product" }).ClickAsync();
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync($"Product Team {teamId} is deleted; restore it first");
        await CheckPageAsync("restore-product-conflict", anyImpact: true);

        await Page.GetByLabel("Product team id").FillAsync(teamId);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Find the team" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Deleted product team: Audiology Team" })).ToBeFocusedAsync();
        await Expect(Page.Locator("#found-summary")).ToContainTextAsync("Deleted");
        await Expect(Page).ToHaveURLAsync(new Regex($@"/ui/restore\.html\?team={teamId}$"));
        await CheckPageAsync("restore-deleted-team", anyImpact: true);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Restore this product team" }).ClickAsync();
        await Expect(Page.Locator("#restored-panel")).ToBeFocusedAsync();
        await Expect(Page.Locator("#restored-panel")).ToContainTextAsync("Product team restored");
        await CheckPageAsync("restore-team-done", anyImpact: true);
        (await api.GetAsync($"/ProductTeam/{teamId}")).AssertStatus(HttpStatusCode.OK);

        await GoAsync($"ui/restore.html?product={product}");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Restore this product" }).ClickAsync();
        await Expect(Page.Locator("#restored-panel")).ToContainTextAsync("Product restored");
        await Page.GetByRole(AriaRole.Link, new() { Name = "Open the product" }).ClickAsync();
        await Expect(Page.Locator("#product-summary")).ToContainTextAsync("active");

        // A live one is found too, and said not to be deleted.
        await GoAsync($"ui/restore.html?team={teamId}");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Product team Audiology Team is not deleted" })).ToBeVisibleAsync();
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Restore this product team" })).ToHaveCountAsync(0);
        await CheckPageAsync("restore-not-deleted", anyImpact: true);
    }

    [Fact]
    public async Task HistoryIsATimelineOfWhoChangedWhatOldToNewAPageAtATime()
    {
        var api = Service.Api();
        var teamId = (await api.CreateTeamAsync(name: "First Name"))["id"]!.GetValue<string>();
        await RenameThroughApiAsync($"/ProductTeam/{teamId}", "Second Name");
        await SignInAsync(Admin);
        await GoAsync($"ui/rename.html?team={teamId}");
        await Page.GetByLabel("New name").FillAsync("Third Name");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save the new name" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Third Name", Level = 1 })).ToBeVisibleAsync();
        (await api.DeleteAsync($"/ProductTeam/{teamId}")).AssertStatus(HttpStatusCode.OK);

        // Two events a page: created and the API's rename, then the person's rename and the delete.
        await GoAsync($"ui/history.html?team={teamId}&limit=2");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Third Name", Level = 1 })).ToBeVisibleAsync();
        await Expect(Page.Locator("#entity-summary .nhsuk-tag")).ToHaveTextAsync("Deleted");
        var items = Page.Locator("#timeline-list > li");
        await Expect(items).ToHaveCountAsync(2);
        await Expect(items.Nth(0)).ToContainTextAsync("Created");
        await Expect(items.Nth(0)).ToContainTextAsync("by apikey-0");
        await Expect(items.Nth(1)).ToContainTextAsync("Changed");
        await Expect(items.Nth(1).Locator(".cpm-change__old")).ToHaveTextAsync("First Name");
        await Expect(items.Nth(1).Locator(".cpm-change__new")).ToHaveTextAsync("Second Name");
        await Expect(items.Nth(1).Locator("time")).ToHaveAttributeAsync("datetime", new Regex(@"^\d{4}-\d\d-\d\dT"));
        await CheckPageAsync("history", anyImpact: true);

        await Page.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(items).ToHaveCountAsync(2);
        await Expect(items.Nth(0)).ToContainTextAsync($"by {Admin}");
        await Expect(items.Nth(0).Locator(".cpm-change__old")).ToHaveTextAsync("Second Name");
        await Expect(items.Nth(0).Locator(".cpm-change__new")).ToHaveTextAsync("Third Name");
        await Expect(items.Nth(1)).ToContainTextAsync("Deleted");
        await Expect(items.Nth(1)).ToContainTextAsync("status");
        await Expect(items.Nth(1).Locator(".cpm-change__new")).ToHaveTextAsync("inactive");
        await CheckPageAsync("history-next", anyImpact: true);

        // The last page has no "Next"; the cursors only go forwards, so back is to the first page.
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Next" })).ToBeHiddenAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "First page" }).ClickAsync();
        await Expect(items.Nth(0)).ToContainTextAsync("Created");
    }

    [Fact]
    public async Task AnOrganisationsTeamsAndASearchArePagedWithNext()
    {
        var api = Service.Api();
        var odsCode = Unique.OdsCode();
        var teams = new List<string>();
        foreach (var name in new[] { "Alpha Team", "Beta Team", "Gamma Team" })
        {
            teams.Add((await api.CreateTeamAsync(odsCode, name))["id"]!.GetValue<string>());
        }

        var products = new List<string>();
        foreach (var name in new[] { "One", "Two", "Three" })
        {
            products.Add((await api.CreateProductAsync(teams[0], name))["id"]!.GetValue<string>());
        }

        await SignInAsync(Admin);
        await GoAsync("ui/teams.html?limit=2");
        await Page.GetByLabel("ODS code").FillAsync(odsCode);
        await Page.GetByRole(AriaRole.Button, new() { Name = "List teams" }).ClickAsync();
        var rows = Page.Locator("#teams-table tbody tr");
        await Expect(rows).ToHaveCountAsync(2);
        await CheckPageAsync("teams", anyImpact: true);
        var firstPage = await Page.Locator("#teams-table tbody").InnerTextAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Next" })).ToBeHiddenAsync();
        await CheckPageAsync("teams-next", anyImpact: true);
        var seen = firstPage + await Page.Locator("#teams-table tbody").InnerTextAsync();
        foreach (var team in teams.Order(StringComparer.Ordinal))
        {
            Assert.Contains(team, seen, StringComparison.Ordinal);
        }

        await GoAsync($"ui/search.html?organisation={odsCode}&limit=2");
        var productRows = Page.Locator("#products-table tbody tr");
        await Expect(productRows).ToHaveCountAsync(2);
        await Expect(Page.Locator("#products-table")).ToContainTextAsync("Alpha Team");
        await CheckPageAsync("search-paged", anyImpact: true);
        var firstProducts = await Page.Locator("#products-table tbody").InnerTextAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Next" }).ClickAsync();
        await Expect(productRows).ToHaveCountAsync(1);
        var allProducts = firstProducts + await Page.Locator("#products-table tbody").InnerTextAsync();
        foreach (var product in products)
        {
            Assert.Contains(product, allProducts, StringComparison.Ordinal);
        }

        await Page.GetByRole(AriaRole.Link, new() { Name = $"List the teams of organisation {odsCode}" }).ClickAsync();
        await Expect(Page.Locator("#teams-table")).ToContainTextAsync("Gamma Team");
    }

    [Fact]
    public async Task AnAdministratorDownloadsTheExportAndAReaderIsRefused()
    {
        var teamId = (await Service.Api().CreateTeamAsync(name: "Exported Team"))["id"]!.GetValue<string>();
        await SignInAsync(Admin);
        await GoAsync("ui/export.html");
        await CheckPageAsync("export", anyImpact: true);
        var download = await Page.RunAndWaitForDownloadAsync(() => Page.GetByRole(AriaRole.Button, new() { Name = "Download the export" }).ClickAsync());
        Assert.EndsWith(".ndjson", download.SuggestedFilename, StringComparison.Ordinal);
        var path = await download.PathAsync();
        var lines = await File.ReadAllLinesAsync(path);
        Assert.Contains(lines, line => line.StartsWith("{\"kind\": \"product_team\"", StringComparison.Ordinal) && line.Contains(teamId, StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("{\"kind\": \"event\"", StringComparison.Ordinal));
        await Expect(Page.Locator("#export-done")).ToContainTextAsync($"Downloaded {download.SuggestedFilename}");
        await CheckPageAsync("export-done", anyImpact: true);

        await using var readerContext = await NewContextAsync();
        Page = await NewPageAsync(readerContext);
        await SignInAsync(Reader);
        await GoAsync("ui/export.html");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Download the export" }).ClickAsync();
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync($"Caller '{Reader}' lacks the 'admin' scope");
        await CheckPageAsync("export-refused", anyImpact: true);
    }

    [Fact]
    public async Task ASignedInAdministratorAddsAndDeletesAWebhookAndAReaderIsToldItIsForAdministrators()
    {
        var url = $"http://127.0.0.1:9/signed-in-{Guid.NewGuid():N}";
        await SignInAsync(Admin);
        await GoAsync("ui/webhooks.html");
        await Page.GetByLabel("Address (URL)").FillAsync(url);
        await Page.GetByLabel("Secret", new() { Exact = true }).FillAsync("signed-in-secret-0123456789");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add subscription" }).ClickAsync();
        var row = Page.Locator("#webhooks-table tbody tr", new() { HasText = url });
        await Expect(row).ToContainTextAsync("None");
        await CheckPageAsync("webhooks-signed-in", anyImpact: true);

        await row.GetByRole(AriaRole.Link, new() { NameRegex = new Regex("^Delete") }).ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete this subscription" }).ClickAsync();
        await Expect(Page.Locator("#success-banner")).ToContainTextAsync($"The subscription to {url} has been deleted");
        await Expect(Page.Locator("#webhooks-list")).Not.ToContainTextAsync(url);

        await using var readerContext = await NewContextAsync();
        Page = await NewPageAsync(readerContext);
        await SignInAsync(Reader);
        await GoAsync("ui/webhooks.html");
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync("Only administrators can see and change webhook subscriptions");
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync($"Caller '{Reader}' lacks the 'admin' scope");
        await Expect(Page.Locator("#webhook-form")).ToBeHiddenAsync();
        await CheckPageAsync("webhooks-refused-signed-in", anyImpact: true);
    }

    [Fact]
    public async Task ThePersonsScopesAndOrganisationsComeFromTheProvidersClaims()
    {
        var api = Service.Api();
        var elsewhere = (await api.CreateTeamAsync(name: "Elsewhere Team"))["id"]!.GetValue<string>();
        var own = (await api.CreateTeamAsync("ZZ991", "Own Team"))["id"]!.GetValue<string>();

        // cpm_scopes: read only.
        await SignInAsync(Reader);
        await RenameInUiAsync(elsewhere, "Reader Name");
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync($"Caller '{Reader}' lacks the 'write' scope");
        await CheckPageAsync("rename-refused", anyImpact: true);

        // cpm_ods_codes: writes only to ZZ991's teams.
        const string limited = "olive.organisation";
        await using (var limitedContext = await NewContextAsync())
        {
            Page = await NewPageAsync(limitedContext);
            await SignInAsync(limited);
            await RenameInUiAsync(elsewhere, "Olive Name");
            await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync($"Caller '{limited}' may not write to organisation");
            await RenameInUiAsync(own, "Olive Own Team");
            await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Olive Own Team", Level = 1 })).ToBeVisibleAsync();
        }

        // A person may not take an api client's name: it keys remembered answers and names the actor.
        await using var clashingContext = await NewContextAsync();
        Page = await NewPageAsync(clashingContext);
        await SignInAsync("apikey-0");
        await GoAsync($"ui/team.html?id={own}");
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync("Signed-in name 'apikey-0' is the name of an api client; it cannot be used by a person");
    }

    [Fact]
    public async Task SigningOutEndsTheSessionAndThePagesAskToSignInAgain()
    {
        await SignInAsync(Admin);
        await GoAsync("ui/teams.html");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex(@"/ui/$"));
        await Expect(Page.Locator(".nhsuk-notification-banner--success")).ToContainTextAsync("You have signed out.");
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(Page.Locator("#signed-in-name")).ToHaveCountAsync(0);
        await CheckPageAsync("signed-out", anyImpact: true);
        Assert.DoesNotContain(await Context.CookiesAsync(), cookie => cookie.Name == "cpm-session");

        // A page that needs the session sends the person to the provider again (which, still
        // signed in there itself, sends them straight back).
        var reauthorization = await Page.RunAndWaitForRequestAsync(
            () => GoAsync("ui/teams.html?organisation=X26"),
            request => request.Url.StartsWith(Service.Issuer + "/auth", StringComparison.Ordinal));
        Assert.NotNull(reauthorization);
    }

    [Fact]
    public async Task ARequestFromAnotherOriginCarryingTheSessionCookieIsRefused()
    {
        await SignInAsync(Admin);
        var odsCode = Unique.OdsCode();

        // A page of another origin on the same site (the provider's port), so SameSite=Strict
        // still lets the browser attach the cookie: only the anti-forgery header can refuse it.
        // It posts a form, as a forged request must (it cannot set headers), its body JSON.
        await Page.GotoAsync(Service.Issuer + "/.well-known/openid-configuration");
        var write = await Page.RunAndWaitForResponseAsync(
            () => Page.EvaluateAsync(
                """
                ([url, json]) => {
                    const form = document.createElement('form');
                    form.method = 'POST';
                    form.action = url;
                    form.enctype = 'text/plain';
                    const field = document.createElement('input');
                    field.name = json.slice(0, -2);
                    field.value = json.slice(-2);
                    form.append(field);
                    document.body.append(form);
                    form.submit();
                }
                """,
                new object[] { Url("ProductTeam"), $"{{\"ods_code\": \"{odsCode}\", \"name\": \"Forged Team\"}}" }),
            response => response.Url == Url("ProductTeam"));
        Assert.Contains("cpm-session=", (await write.Request.AllHeadersAsync()).GetValueOrDefault("cookie") ?? "", StringComparison.Ordinal);
        Assert.Equal(403, write.Status);
        Assert.Equal("{\"errors\": [{\"code\": \"ACCESS_DENIED\", \"message\": \"Missing or invalid anti-forgery header\"}]}", await write.TextAsync());

        // Reads are refused as writes are: a link followed from another origin shows nothing.
        await Page.GotoAsync(Service.Issuer + "/.well-known/openid-configuration");
        var read = await Page.RunAndWaitForResponseAsync(
            () => Page.EvaluateAsync("url => { location.href = url; }", Url($"ProductTeam?organisation_code={odsCode}")),
            response => response.Url.StartsWith(Url("ProductTeam"), StringComparison.Ordinal));
        Assert.Equal(403, read.Status);
        Assert.Contains("Missing or invalid anti-forgery header", await read.TextAsync(), StringComparison.Ordinal);

        var listed = (await Service.Api().GetAsync($"/ProductTeam?organisation_code={odsCode}")).Json();
        Assert.Empty(listed["results"]!.AsArray());

        // Without a session or a key, the API refuses exactly as before.
        using var http = new HttpClient { BaseAddress = Service.BaseUrl };
        (await new CpmClient(http, null, "1").GetAsync("/ProductTeam/anything")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Missing apikey header");
    }

    [Fact]
    public async Task KeyboardAloneSignsInRenamesPagesThroughHistoryRestoresAndSignsOut()
    {
        var api = Service.Api();
        var odsCode = Unique.OdsCode();
        var teamId = (await api.CreateTeamAsync(odsCode, "Keys Team"))["id"]!.GetValue<string>();
        await api.CreateTeamAsync(odsCode, "Second Keys Team");
        var product = (await api.CreateProductAsync(teamId, "Keys Product"))["id"]!.GetValue<string>();
        (await api.DeleteAsync($"/ProductTeam/{teamId}/Product/{product}")).AssertStatus(HttpStatusCode.OK);

        await GoAsync("ui/");
        await TabToAsync(Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }));
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("input[name=login]")).ToBeFocusedAsync();
        await Page.Keyboard.TypeAsync(Admin);
        await Page.Keyboard.PressAsync("Tab");
        await Page.Keyboard.TypeAsync("any password");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("#signed-in-name")).ToHaveTextAsync(Admin);

        await GoAsync($"ui/team.html?id={teamId}");
        await TabToAsync(Page.GetByRole(AriaRole.Link, new() { Name = "Rename this team" }));
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await TabToAsync(Page.GetByLabel("New name"));
        await Page.Keyboard.PressAsync("Control+A");
        await Page.Keyboard.TypeAsync("Keyboard Team");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Keyboard Team", Level = 1 })).ToBeVisibleAsync();

        await TabToAsync(Page.GetByRole(AriaRole.Link, new() { Name = "See who changed what (history)" }));
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("#timeline-list > li")).ToHaveCountAsync(2);
        await Expect(Page.Locator("#timeline-list > li").Nth(1)).ToContainTextAsync($"by {Admin}");

        await GoAsync($"ui/restore.html?product={product}");
        await TabToAsync(Page.GetByRole(AriaRole.Button, new() { Name = "Restore this product" }));
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("#restored-panel")).ToBeFocusedAsync();
        await Page.Keyboard.PressAsync("Tab");
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Open the product" })).ToBeFocusedAsync();
        (await api.GetAsync($"/Product/{product}")).AssertStatus(HttpStatusCode.OK);

        // An organisation's teams, then the next page.
        await GoAsync("ui/teams.html?limit=1");
        await TabToAsync(Page.GetByLabel("ODS code"));
        await Page.Keyboard.TypeAsync(odsCode);
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("#teams-table tbody tr")).ToHaveCountAsync(1);
        await TabToAsync(Page.GetByRole(AriaRole.Link, new() { Name = "Next" }));
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("#teams-table tbody tr")).ToHaveCountAsync(1);
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "First page" })).ToBeVisibleAsync();

        await GoAsync("ui/export.html");
        await TabToAsync(Page.GetByRole(AriaRole.Button, new() { Name = "Download the export" }));
        await ExpectVisibleFocusAsync();
        var download = await Page.RunAndWaitForDownloadAsync(() => Page.Keyboard.PressAsync("Enter"));
        Assert.EndsWith(".ndjson", download.SuggestedFilename, StringComparison.Ordinal);

        await TabToAsync(Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }));
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeVisibleAsync();
    }

    /// <summary>Signs in through the real provider's login form, as a person would.</summary>
    private async Task SignInAsync(string login)
    {
        await Page.GotoAsync(Url("signin"));
        await LogInAtProviderAsync(login);
        await Expect(Page.Locator("#signed-in-name")).ToHaveTextAsync(login);
    }

    /// <summary>oidc-provider's development login form: any password, the login is the account.</summary>
    private async Task LogInAtProviderAsync(string login)
    {
        await Page.Locator("input[name=login]").FillAsync(login);
        await Page.Locator("input[name=password]").FillAsync("any password");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign-in" }).ClickAsync();
    }

    private async Task RenameInUiAsync(string teamId, string name)
    {
        await GoAsync($"ui/rename.html?team={teamId}");
        await Page.GetByLabel("New name").FillAsync(name);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Save the new name" }).ClickAsync();
    }

    private async Task RenameThroughApiAsync(string path, string name)
    {
        var api = Service.Api();
        var current = await api.GetAsync(path);
        var body = new JsonObject { ["name"] = name }.ToJsonString();
        (await api.SendAsync(HttpMethod.Patch, path, body, ("If-Match", current.Header("ETag")!))).AssertStatus(HttpStatusCode.OK);
    }
}
