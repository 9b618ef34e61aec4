using System.Net;
using System.Text.RegularExpressions;
using Cpm.Api.Tests.Infrastructure;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Cpm.Api.Tests.Ui;

/// <summary>
/// The self-service pages in a real browser against the running service: every flow end to end,
/// and on every page state checked: no serious or critical axe violation, no console error
/// (CSP violations included), no request leaving the service's origin, and a screenshot.
/// </summary>
public sealed partial class UiTests(UiService service, ITestOutputHelper output) : IClassFixture<UiService>, IAsyncLifetime
{
    private readonly List<string> _consoleErrors = [];
    private readonly List<string> _foreignRequests = [];
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _context = await NewContextAsync();
        _page = await NewPageAsync(_context);
    }

    public async Task DisposeAsync() => await _context.CloseAsync();

    [Fact]
    public async Task ApiKeyIsAskedForOnceAndKeptInTheTabsSessionStorageOnly()
    {
        await GoAsync("ui/");
        await Expect(_page.GetByRole(AriaRole.Button, new() { Name = "Enter your API key" })).ToBeVisibleAsync();
        await CheckPageAsync("home-without-key");

        await _page.GetByRole(AriaRole.Button, new() { Name = "Enter your API key" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Enter your API key", Level = 1 })).ToBeVisibleAsync();
        await Expect(_page.Locator("main")).ToContainTextAsync("never written to a cookie or to local storage");

        await _page.GetByLabel("API key", new() { Exact = true }).FillAsync("wrong-key");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Expect(_page.Locator("#apikey-error")).ToContainTextAsync("The API key was not accepted: Invalid apikey");
        await ExpectErrorSummaryFocusedAsync();
        await CheckPageAsync("key-rejected");

        await _page.GetByLabel("API key", new() { Exact = true }).FillAsync(UiService.ApiKey);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Link, new() { Name = "Create a product team" })).ToBeVisibleAsync();

        Assert.Equal(UiService.ApiKey, await _page.EvaluateAsync<string>("sessionStorage.getItem('cpm.apiKey')"));
        Assert.Equal(0, await _page.EvaluateAsync<int>("localStorage.length"));
        Assert.Empty(await _context.CookiesAsync());

        // Another tab has its own session storage, so it asks again and then goes where it was heading.
        var otherTab = await NewPageAsync(_context);
        await otherTab.GotoAsync(Url("ui/team-new.html"));
        await Expect(otherTab).ToHaveURLAsync(new Regex(@"/ui/key\.html\?next=team-new\.html$"));
        await otherTab.GetByLabel("API key", new() { Exact = true }).FillAsync(UiService.ApiKey);
        await otherTab.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Expect(otherTab.GetByRole(AriaRole.Heading, new() { Name = "Create a product team" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task CreatingATeamShowsTheContractsErrorsNextToTheFieldsThenOpensTheNewTeam()
    {
        await EnterKeyAsync();
        await GoAsync("ui/team-new.html");
        var odsCode = Unique.OdsCode();
        await _page.GetByLabel("ODS code").FillAsync(odsCode);
        await _page.GetByLabel("Team name").FillAsync("   ");
        await _page.GetByLabel("Alias (optional)").FillAsync("not-a-uuid");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();

        await Expect(_page.Locator("#name-error")).ToHaveTextAsync("Error: ensure this value has at least 1 characters");
        await Expect(_page.Locator("#alias-error")).ToContainTextAsync("Key 'not-a-uuid' does not match the expected pattern");
        await Expect(_page.Locator("#ods_code-error")).ToHaveCountAsync(0);
        await Expect(_page.GetByLabel("Team name")).ToHaveAttributeAsync("aria-describedby", "name-hint name-error");
        await ExpectErrorSummaryFocusedAsync();
        await Expect(_page).ToHaveTitleAsync(new Regex("^Error: "));
        await CheckPageAsync("team-new-errors");

        await _page.Locator(".nhsuk-error-summary").GetByRole(AriaRole.Link, new() { Name = "Team name: ensure this value has at least 1 characters" }).ClickAsync();
        await Expect(_page.GetByLabel("Team name")).ToBeFocusedAsync();

        var alias = Guid.NewGuid().ToString();
        await _page.GetByLabel("Team name").FillAsync("Renal Results Team");
        await _page.GetByLabel("Alias (optional)").FillAsync(alias);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();

        await Expect(_page).ToHaveURLAsync(new Regex(@"/ui/team\.html\?id=[0-9a-f-]{36}$"));
        await Expect(_page.Locator(".nhsuk-notification-banner--success")).ToContainTextAsync("Product team \"Renal Results Team\" created.");
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Renal Results Team", Level = 1 })).ToBeVisibleAsync();
        await Expect(_page.Locator("#team-summary")).ToContainTextAsync(alias);
        await Expect(_page.Locator("#team-summary")).ToContainTextAsync(odsCode);
        var teamId = new Uri(_page.Url).Query["?id=".Length..];
        (await service.Api().GetAsync($"/ProductTeam/{alias}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(teamId, (await service.Api().GetAsync($"/ProductTeam/{alias}")).Json()["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnUnknownOdsCodeIsShownAtTheFieldAndAnUnavailableOdsInTheSummary()
    {
        await EnterKeyAsync();
        await GoAsync("ui/team-new.html");
        await _page.GetByLabel("ODS code").FillAsync("BAD" + Unique.OdsCode());
        await _page.GetByLabel("Team name").FillAsync("Some Team");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await Expect(_page.Locator("#ods_code-error")).ToContainTextAsync("Invalid ODS Code: could not resolve");
        await ExpectErrorSummaryFocusedAsync();

        var unavailable = Unique.OdsCode();
        service.Ord.Set(unavailable, OrdBehaviour.ServerError);
        await _page.GetByLabel("ODS code").FillAsync(unavailable);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        var summary = _page.Locator(".nhsuk-error-summary");
        await Expect(summary).ToContainTextAsync("The service is unavailable at the moment, so nothing was changed.", new() { Timeout = 20_000 });
        await Expect(summary).ToContainTextAsync($"ODS is unavailable: could not check ODS code '{unavailable}'");
        await Expect(_page.Locator("#ods_code-error")).ToHaveCountAsync(0);
        await CheckPageAsync("team-new-ods-unavailable");
    }

    [Fact]
    public async Task TeamPageCreatesAProductAndShowsItsNewIdWithACopyButton()
    {
        var api = service.Api();
        var alias = Guid.NewGuid().ToString();
        var team = await api.CreateTeamAsync(name: "Pathology Team", alias: alias);
        await api.CreateProductAsync(alias, "Blood Results Feed");
        await EnterKeyAsync();

        await GoAsync($"ui/team.html?id={alias}");
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Pathology Team", Level = 1 })).ToBeVisibleAsync();
        await Expect(_page.Locator("#team-summary")).ToContainTextAsync(team["id"]!.GetValue<string>());
        await Expect(_page.Locator("#products-table")).ToContainTextAsync("Blood Results Feed");

        await _page.GetByRole(AriaRole.Button, new() { Name = "Create product" }).ClickAsync();
        await Expect(_page.Locator("#product_name-error")).ToHaveTextAsync("Error: ensure this value has at least 1 characters");
        await ExpectErrorSummaryFocusedAsync();

        await _page.GetByLabel("Product name").FillAsync("Pathology Results API");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create product" }).ClickAsync();
        var newId = _page.Locator("#new-product-id");
        await Expect(newId).ToHaveTextAsync(ProductId());
        await Expect(_page.Locator("#created-panel")).ToBeFocusedAsync();
        await Expect(_page.Locator("#product_name-error")).ToHaveCountAsync(0);
        var productId = await newId.TextContentAsync();
        await Expect(_page.Locator("#products-table")).ToContainTextAsync(productId!);

        await _page.GetByRole(AriaRole.Button, new() { Name = "Copy product id" }).ClickAsync();
        await Expect(_page.Locator("#copy-status")).ToHaveTextAsync($"Copied {productId} to the clipboard.");
        Assert.Equal(productId, await _page.EvaluateAsync<string>("navigator.clipboard.readText()"));
        await CheckPageAsync("team");

        var created = await api.GetAsync($"/Product/{productId}");
        created.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Pathology Results API", created.Json()["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeletingAProductAsksForConfirmationAndGoingBackKeepsIt()
    {
        var api = service.Api();
        var team = await api.CreateTeamAsync(name: "Imaging Team");
        var teamId = team["id"]!.GetValue<string>();
        var product = (await api.CreateProductAsync(teamId, "Scan Reports"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync($"ui/team.html?id={teamId}");

        var deleteLink = _page.GetByRole(AriaRole.Link, new() { Name = $"Delete product {product} (Scan Reports)" });
        await deleteLink.ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = $"Are you sure you want to delete the product {product}?" })).ToBeVisibleAsync();
        await CheckPageAsync("delete-product");
        await _page.GetByRole(AriaRole.Link, new() { Name = "No, go back" }).ClickAsync();
        await Expect(_page.Locator("#products-table")).ToContainTextAsync(product);
        (await api.GetAsync($"/Product/{product}")).AssertStatus(HttpStatusCode.OK);

        await deleteLink.ClickAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete this product" }).ClickAsync();
        await Expect(_page.Locator(".nhsuk-notification-banner--success")).ToContainTextAsync($"Product {product} (Scan Reports) has been deleted.");
        await Expect(_page.Locator("#no-products")).ToHaveTextAsync("This team has no products.");
        (await api.GetAsync($"/Product/{product}")).AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletingATeamThatStillHasProductsShowsTheConflict()
    {
        var api = service.Api();
        var teamId = (await api.CreateTeamAsync(name: "Busy Team"))["id"]!.GetValue<string>();
        var product = (await api.CreateProductAsync(teamId, "Still Here"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync($"ui/team.html?id={teamId}");

        await _page.GetByRole(AriaRole.Button, new() { Name = "Delete this team" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Are you sure you want to delete the product team Busy Team?" })).ToBeVisibleAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete this team" }).ClickAsync();

        var summary = _page.Locator(".nhsuk-error-summary");
        await Expect(summary).ToContainTextAsync("This team still has products, so it cannot be deleted. Delete its products first.");
        await Expect(summary).ToContainTextAsync($"Product Team cannot be deleted as it still has associated Product Ids ['{product}']");
        await ExpectErrorSummaryFocusedAsync();
        await CheckPageAsync("delete-team-conflict");
        (await api.GetAsync($"/ProductTeam/{teamId}")).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeletingAnEmptyTeamAfterConfirmingRemovesItAndReturnsHome()
    {
        var api = service.Api();
        var alias = Guid.NewGuid().ToString();
        var teamId = (await api.CreateTeamAsync(name: "Short Lived Team", alias: alias))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync($"ui/team.html?id={alias}");

        await _page.GetByRole(AriaRole.Button, new() { Name = "Delete this team" }).ClickAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete this team" }).ClickAsync();

        await Expect(_page).ToHaveURLAsync(new Regex(@"/ui/$"));
        await Expect(_page.Locator(".nhsuk-notification-banner--success")).ToContainTextAsync($"Product team Short Lived Team ({teamId}) has been deleted.");
        await CheckPageAsync("home-team-deleted");
        (await api.GetAsync($"/ProductTeam/{teamId}")).AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SearchingByTeamAliasListsTheTeamsProducts()
    {
        var api = service.Api();
        var alias = Guid.NewGuid().ToString();
        await api.CreateTeamAsync(name: "Maternity Team", alias: alias);
        var first = (await api.CreateProductAsync(alias, "Birth Notifications"))["id"]!.GetValue<string>();
        var second = (await api.CreateProductAsync(alias, "Antenatal Bookings"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync("ui/search.html");

        await _page.GetByLabel("Product team id or alias").FillAsync(alias);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Find by team" }).ClickAsync();

        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Products of Maternity Team" })).ToBeFocusedAsync();
        await Expect(_page.Locator("#products-table")).ToContainTextAsync(first);
        await Expect(_page.Locator("#products-table")).ToContainTextAsync(second);
        await Expect(_page).ToHaveURLAsync(new Regex($@"/ui/search\.html\?team={alias}$"));
        await CheckPageAsync("search-by-team");

        await _page.GetByLabel("Product team id or alias").FillAsync("no-such-team");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Find by team" }).ClickAsync();
        await Expect(_page.Locator("#results")).ToContainTextAsync("Could not find ProductTeam for key ('no-such-team')");
    }

    [Fact]
    public async Task SearchingByOrganisationListsItsTeamsAndTheirProducts()
    {
        var api = service.Api();
        var odsCode = Unique.OdsCode();
        var withProducts = await api.CreateTeamAsync(odsCode, "Cardiology Team");
        await api.CreateTeamAsync(odsCode, "Empty Team");
        var product = (await api.CreateProductAsync(withProducts["id"]!.GetValue<string>(), "Echo Reports"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync("ui/search.html");

        await _page.GetByLabel("ODS code").FillAsync(odsCode);
        await _page.GetByLabel("ODS code").PressAsync("Enter");

        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = $"Organisation {odsCode}" })).ToBeFocusedAsync();
        await Expect(_page.Locator("#teams-table")).ToContainTextAsync("Cardiology Team");
        await Expect(_page.Locator("#teams-table")).ToContainTextAsync("Empty Team");
        await Expect(_page.Locator("#products-table")).ToContainTextAsync(product);
        await CheckPageAsync("search-by-organisation");

        await _page.Locator("#products-table").GetByRole(AriaRole.Link, new() { Name = "Cardiology Team" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Cardiology Team", Level = 1 })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task ASearchOpenedFromALinkOrAReloadShowsItsResults()
    {
        var api = service.Api();
        var odsCode = Unique.OdsCode();
        var team = await api.CreateTeamAsync(odsCode, "Linked Team");
        var product = (await api.CreateProductAsync(team["id"]!.GetValue<string>(), "Linked Product"))["id"]!.GetValue<string>();
        await EnterKeyAsync();

        await GoAsync($"ui/search.html?organisation={odsCode}");
        await Expect(_page.Locator("#products-table")).ToContainTextAsync(product);

        await _page.ReloadAsync();
        await Expect(_page.Locator("#products-table")).ToContainTextAsync(product);
        await GoAsync($"ui/search.html?team={team["id"]}");
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Products of Linked Team" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task OpeningAProductByIdShowsItsDetailsAndAnUnknownIdAtTheField()
    {
        var api = service.Api();
        var alias = Guid.NewGuid().ToString();
        var teamId = (await api.CreateTeamAsync(name: "Pharmacy Team", alias: alias))["id"]!.GetValue<string>();
        var product = (await api.CreateProductAsync(alias, "Prescription Sync"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync("ui/product.html");

        await _page.GetByLabel("Product id").FillAsync(product);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Open product" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Prescription Sync" })).ToBeFocusedAsync();
        var summary = _page.Locator("#product-summary");
        await Expect(summary).ToContainTextAsync(product);
        await Expect(summary).ToContainTextAsync(teamId);
        await Expect(summary).ToContainTextAsync(alias);
        await CheckPageAsync("product");

        await _page.GetByLabel("Product id").FillAsync("P.NOT-HERE");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Open product" }).ClickAsync();
        await Expect(_page.Locator("#product_id-error")).ToHaveTextAsync("Error: Could not find CpmProduct for key ('P.NOT-HERE')");
        await ExpectErrorSummaryFocusedAsync();
        await Expect(_page.Locator("#product-summary")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task KeyboardAloneEntersTheKeyCreatesATeamAndCreatesAProduct()
    {
        await GoAsync("ui/key.html");
        await _page.Keyboard.PressAsync("Tab");
        await Expect(_page.GetByRole(AriaRole.Link, new() { Name = "Skip to main content" })).ToBeFocusedAsync();
        await _page.Keyboard.PressAsync("Enter");
        await TabToAsync(_page.GetByLabel("API key", new() { Exact = true }));
        await ExpectVisibleFocusAsync();
        await _page.Keyboard.TypeAsync(UiService.ApiKey);
        await _page.Keyboard.PressAsync("Enter");
        await Expect(_page).ToHaveURLAsync(new Regex(@"/ui/$"));

        await TabToAsync(_page.GetByRole(AriaRole.Link, new() { Name = "Create a product team" }));
        await _page.Keyboard.PressAsync("Enter");
        await TabToAsync(_page.GetByLabel("ODS code"));
        await _page.Keyboard.TypeAsync(Unique.OdsCode());
        await TabToAsync(_page.GetByRole(AriaRole.Button, new() { Name = "Create team" }));
        await ExpectVisibleFocusAsync();
        await _page.Keyboard.PressAsync("Enter");

        // The error summary takes focus; its link takes the user to the field.
        await ExpectErrorSummaryFocusedAsync();
        await TabToAsync(_page.Locator(".nhsuk-error-summary a").First);
        await _page.Keyboard.PressAsync("Enter");
        await Expect(_page.GetByLabel("Team name")).ToBeFocusedAsync();
        await _page.Keyboard.TypeAsync("Keyboard Team");
        await _page.Keyboard.PressAsync("Enter");
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Keyboard Team", Level = 1 })).ToBeVisibleAsync();

        await TabToAsync(_page.GetByLabel("Product name"));
        await _page.Keyboard.TypeAsync("Keyboard Product");
        await _page.Keyboard.PressAsync("Enter");
        await Expect(_page.Locator("#created-panel")).ToBeFocusedAsync();
        await Expect(_page.Locator("#new-product-id")).ToHaveTextAsync(ProductId());
        await _page.Keyboard.PressAsync("Tab");
        await Expect(_page.GetByRole(AriaRole.Button, new() { Name = "Copy product id" })).ToBeFocusedAsync();
        await ExpectVisibleFocusAsync();
        await _page.Keyboard.PressAsync("Enter");
        await Expect(_page.Locator("#copy-status")).ToContainTextAsync("Copied");
    }

    [Fact]
    public async Task NamesFromTheApiAreShownAsTextNeverAsMarkup()
    {
        const string name = "<img src=x onerror=window.injected=1> <b>Bold</b>";
        var teamId = (await service.Api().CreateTeamAsync(name: name))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync($"ui/team.html?id={teamId}");

        await Expect(_page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(name);
        await Expect(_page.Locator("main img, main b")).ToHaveCountAsync(0);
        Assert.False(await _page.EvaluateAsync<bool>("'injected' in window"));
    }

    [Fact]
    public async Task WithoutJavaScriptEveryPageSaysItNeedsIt()
    {
        await using var context = await service.Browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        var page = await context.NewPageAsync();
        foreach (var path in new[] { "ui/", "ui/key.html", "ui/team-new.html", "ui/team.html?id=x", "ui/delete.html?team=x", "ui/search.html", "ui/product.html" })
        {
            await page.GotoAsync(Url(path));
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "This service needs JavaScript" })).ToBeVisibleAsync();
            foreach (var form in await page.Locator("form").AllAsync())
            {
                await Expect(form).ToBeHiddenAsync();
            }
        }

        await page.GotoAsync(Url("ui/team-new.html"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(UiService.ScreenshotDirectory, "no-javascript.png"), FullPage = true });
    }

    [Fact]
    public async Task PagesAreServedUnderUiWithAStrictContentSecurityPolicyAndTheApiIsUnchanged()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = service.BaseUrl };
        using var redirect = await http.GetAsync("ui");
        Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
        Assert.Equal(new Uri(service.BaseUrl, "ui/"), redirect.Headers.Location);

        using var index = await http.GetAsync("ui/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", index.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());

        // The pages need a key only through the API; the API still needs one for everything.
        var withoutKey = new CpmClient(http, null, "1");
        (await withoutKey.GetAsync("/ProductTeam/anything")).AssertError(HttpStatusCode.Forbidden, "ACCESS_DENIED", "Missing apikey header");
        (await withoutKey.GetAsync("/ui/no-such-page.html")).AssertError(HttpStatusCode.NotFound, "RESOURCE_NOT_FOUND", "No resource at /ui/no-such-page.html");
    }

    private async Task<IBrowserContext> NewContextAsync()
    {
        var context = await service.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = service.BaseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Permissions = ["clipboard-read", "clipboard-write"],
            Locale = "en-GB",
        });
        context.SetDefaultTimeout(10_000);
        var origin = service.BaseUrl.GetLeftPart(UriPartial.Authority);
        context.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(origin, StringComparison.Ordinal))
            {
                _foreignRequests.Add(request.Url);
            }
        };
        return context;
    }

    private async Task<IPage> NewPageAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            // The browser logs every 4xx/5xx fetch; those answers are what several tests are about.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource:", StringComparison.Ordinal))
            {
                _consoleErrors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => _consoleErrors.Add(error);
        return page;
    }

    private string Url(string path) => new Uri(service.BaseUrl, path).ToString();

    private async Task GoAsync(string path) => await _page.GotoAsync(Url(path));

    /// <summary>
    /// Puts the key in the tab's session storage as the key form does (that form has its own
    /// tests), so the other flows start where a user who entered it would be.
    /// </summary>
    private async Task EnterKeyAsync() =>
        await _context.AddInitScriptAsync($"if (!sessionStorage.getItem('cpm.apiKey')) sessionStorage.setItem('cpm.apiKey', '{UiService.ApiKey}');");

    /// <summary>
    /// The checks every page state gets: axe finds nothing serious or critical, the console has
    /// no error (a CSP violation would be one), nothing was fetched from another origin; and a
    /// full-page screenshot for people to look at.
    /// </summary>
    private async Task CheckPageAsync(string name)
    {
        // The single-page run: RunAxe's default finishes each run in a second, blank page, which
        // takes two to three times as long and adds nothing for pages without frames.
#pragma warning disable CS0618
        var results = await _page.RunAxeLegacy();
#pragma warning restore CS0618
        foreach (var violation in results.Violations)
        {
            output.WriteLine($"axe {name}: {violation.Impact} {violation.Id}: {violation.Help} ({string.Join(", ", violation.Nodes.Select(node => string.Join(" ", node.Target)))})");
        }

        output.WriteLine($"axe {name}: {results.Violations.Length} violations, {results.Passes.Length} rules passed, {results.Incomplete.Length} to review ({string.Join(", ", results.Incomplete.Select(item => item.Id))})");
        var blocking = results.Violations.Where(violation => violation.Impact is "serious" or "critical").Select(violation => $"{violation.Impact} {violation.Id}: {violation.Help}").ToList();
        Assert.True(blocking.Count == 0, $"axe on {name}: {string.Join("; ", blocking)}");
        Assert.True(_consoleErrors.Count == 0, $"console errors on {name}: {string.Join("; ", _consoleErrors)}");
        Assert.True(_foreignRequests.Count == 0, $"requests outside the service on {name}: {string.Join(", ", _foreignRequests)}");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(UiService.ScreenshotDirectory, $"{name}.png"), FullPage = true });
    }

    private async Task ExpectErrorSummaryFocusedAsync()
    {
        await Expect(_page.Locator(".nhsuk-error-summary")).ToBeFocusedAsync();
        await Expect(_page.Locator(".nhsuk-error-summary h2")).ToHaveTextAsync("There is a problem");
    }

    /// <summary>Presses Tab, as a keyboard user would, until the element has focus (at most 40 times).</summary>
    private async Task TabToAsync(ILocator target)
    {
        for (var presses = 0; presses < 40; presses++)
        {
            if (await target.EvaluateAsync<bool>("element => element === document.activeElement"))
            {
                return;
            }

            await _page.Keyboard.PressAsync("Tab");
        }

        Assert.Fail($"Tab never reached {target}");
    }

    /// <summary>The focused element shows NHS's yellow focus style (WCAG 2.4.7).</summary>
    private async Task ExpectVisibleFocusAsync()
    {
        var style = await _page.EvaluateAsync<string>("() => { const s = getComputedStyle(document.activeElement); return [s.backgroundColor, s.boxShadow, s.outlineColor].join(' '); }");
        Assert.Contains("rgb(255, 235, 59)", style, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^P\.[ACDEFGHJKLMNPRTUVWXY34679]{3}-[ACDEFGHJKLMNPRTUVWXY34679]{3}$")]
    private static partial Regex ProductId();
}
