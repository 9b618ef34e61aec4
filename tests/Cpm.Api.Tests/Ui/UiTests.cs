using System.Net;
using System.Text.RegularExpressions;
using Cpm.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Cpm.Api.Tests.Ui;

/// <summary>
/// The self-service pages in a real browser against the running service: every flow end to end,
/// and on every page state checked: no serious or critical axe violation, no console error
/// (CSP violations included), no request leaving the service's origin, and a screenshot.
/// </summary>
public sealed class UiTests(UiService service, ITestOutputHelper output) : UiBrowserTests<UiService>(service, output), IClassFixture<UiService>
{
    [Fact]
    public async Task ApiKeyIsAskedForOnceAndKeptInTheTabsSessionStorageOnly()
    {
        await GoAsync("ui/");
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Enter your API key" })).ToBeVisibleAsync();
        await CheckPageAsync("home-without-key");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Enter your API key" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Enter your API key", Level = 1 })).ToBeVisibleAsync();
        await Expect(Page.Locator("main")).ToContainTextAsync("never written to a cookie or to local storage");

        await Page.GetByLabel("API key", new() { Exact = true }).FillAsync("wrong-key");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Expect(Page.Locator("#apikey-error")).ToContainTextAsync("The API key was not accepted: Invalid apikey");
        await ExpectErrorSummaryFocusedAsync();
        await CheckPageAsync("key-rejected");

        await Page.GetByLabel("API key", new() { Exact = true }).FillAsync(UiService.ApiKey);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Create a product team" })).ToBeVisibleAsync();

        Assert.Equal(UiService.ApiKey, await Page.EvaluateAsync<string>("sessionStorage.getItem('cpm.apiKey')"));
        Assert.Equal(0, await Page.EvaluateAsync<int>("localStorage.length"));
        Assert.Empty(await Context.CookiesAsync());

        // Another tab has its own session storage, so it asks again and then goes where it was heading.
        var otherTab = await NewPageAsync(Context);
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
        await Page.GetByLabel("ODS code").FillAsync(odsCode);
        await Page.GetByLabel("Team name").FillAsync("   ");
        await Page.GetByLabel("Alias (optional)").FillAsync("not-a-uuid");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();

        await Expect(Page.Locator("#name-error")).ToHaveTextAsync("Error: ensure this value has at least 1 characters");
        await Expect(Page.Locator("#alias-error")).ToContainTextAsync("Key 'not-a-uuid' does not match the expected pattern");
        await Expect(Page.Locator("#ods_code-error")).ToHaveCountAsync(0);
        await Expect(Page.GetByLabel("Team name")).ToHaveAttributeAsync("aria-describedby", "name-hint name-error");
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page).ToHaveTitleAsync(new Regex("^Error: "));
        await CheckPageAsync("team-new-errors");

        await Page.Locator(".nhsuk-error-summary").GetByRole(AriaRole.Link, new() { Name = "Team name: ensure this value has at least 1 characters" }).ClickAsync();
        await Expect(Page.GetByLabel("Team name")).ToBeFocusedAsync();

        var alias = Guid.NewGuid().ToString();
        await Page.GetByLabel("Team name").FillAsync("Renal Results Team");
        await Page.GetByLabel("Alias (optional)").FillAsync(alias);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();

        await Expect(Page).ToHaveURLAsync(new Regex(@"/ui/team\.html\?id=[0-9a-f-]{36}$"));
        await Expect(Page.Locator(".nhsuk-notification-banner--success")).ToContainTextAsync("Product team \"Renal Results Team\" created.");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Renal Results Team", Level = 1 })).ToBeVisibleAsync();
        await Expect(Page.Locator("#team-summary")).ToContainTextAsync(alias);
        await Expect(Page.Locator("#team-summary")).ToContainTextAsync(odsCode);
        var teamId = new Uri(Page.Url).Query["?id=".Length..];
        (await Service.Api().GetAsync($"/ProductTeam/{alias}")).AssertStatus(HttpStatusCode.OK);
        Assert.Equal(teamId, (await Service.Api().GetAsync($"/ProductTeam/{alias}")).Json()["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnUnknownOdsCodeIsShownAtTheFieldAndAnUnavailableOdsInTheSummary()
    {
        await EnterKeyAsync();
        await GoAsync("ui/team-new.html");
        await Page.GetByLabel("ODS code").FillAsync("BAD" + Unique.OdsCode());
        await Page.GetByLabel("Team name").FillAsync("Some Team");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await Expect(Page.Locator("#ods_code-error")).ToContainTextAsync("Invalid ODS Code: could not resolve");
        await ExpectErrorSummaryFocusedAsync();

        var unavailable = Unique.OdsCode();
        Service.Ord.Set(unavailable, OrdBehaviour.ServerError);
        await Page.GetByLabel("ODS code").FillAsync(unavailable);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        var summary = Page.Locator(".nhsuk-error-summary");
        await Expect(summary).ToContainTextAsync("The service is unavailable at the moment, so nothing was changed.", new() { Timeout = 20_000 });
        await Expect(summary).ToContainTextAsync($"ODS is unavailable: could not check ODS code '{unavailable}'");
        await Expect(Page.Locator("#ods_code-error")).ToHaveCountAsync(0);
        await CheckPageAsync("team-new-ods-unavailable");
    }

    [Fact]
    public async Task TeamPageCreatesAProductAndShowsItsNewIdWithACopyButton()
    {
        var api = Service.Api();
        var alias = Guid.NewGuid().ToString();
        var team = await api.CreateTeamAsync(name: "Pathology Team", alias: alias);
        await api.CreateProductAsync(alias, "Blood Results Feed");
        await EnterKeyAsync();

        await GoAsync($"ui/team.html?id={alias}");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Pathology Team", Level = 1 })).ToBeVisibleAsync();
        await Expect(Page.Locator("#team-summary")).ToContainTextAsync(team["id"]!.GetValue<string>());
        await Expect(Page.Locator("#products-table")).ToContainTextAsync("Blood Results Feed");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Create product" }).ClickAsync();
        await Expect(Page.Locator("#product_name-error")).ToHaveTextAsync("Error: ensure this value has at least 1 characters");
        await ExpectErrorSummaryFocusedAsync();

        await Page.GetByLabel("Product name").FillAsync("Pathology Results API");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create product" }).ClickAsync();
        var newId = Page.Locator("#new-product-id");
        await Expect(newId).ToHaveTextAsync(ProductId());
        await Expect(Page.Locator("#created-panel")).ToBeFocusedAsync();
        await Expect(Page.Locator("#product_name-error")).ToHaveCountAsync(0);
        var productId = await newId.TextContentAsync();
        await Expect(Page.Locator("#products-table")).ToContainTextAsync(productId!);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Copy product id" }).ClickAsync();
        await Expect(Page.Locator("#copy-status")).ToHaveTextAsync($"Copied {productId} to the clipboard.");
        Assert.Equal(productId, await Page.EvaluateAsync<string>("navigator.clipboard.readText()"));
        await CheckPageAsync("team");

        var created = await api.GetAsync($"/Product/{productId}");
        created.AssertStatus(HttpStatusCode.OK);
        Assert.Equal("Pathology Results API", created.Json()["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeletingAProductAsksForConfirmationAndGoingBackKeepsIt()
    {
        var api = Service.Api();
        var team = await api.CreateTeamAsync(name: "Imaging Team");
        var teamId = team["id"]!.GetValue<string>();
        var product = (await api.CreateProductAsync(teamId, "Scan Reports"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync($"ui/team.html?id={teamId}");

        var deleteLink = Page.GetByRole(AriaRole.Link, new() { Name = $"Delete product {product} (Scan Reports)" });
        await deleteLink.ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = $"Are you sure you want to delete the product {product}?" })).ToBeVisibleAsync();
        await CheckPageAsync("delete-product");
        await Page.GetByRole(AriaRole.Link, new() { Name = "No, go back" }).ClickAsync();
        await Expect(Page.Locator("#products-table")).ToContainTextAsync(product);
        (await api.GetAsync($"/Product/{product}")).AssertStatus(HttpStatusCode.OK);

        await deleteLink.ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete this product" }).ClickAsync();
        await Expect(Page.Locator(".nhsuk-notification-banner--success")).ToContainTextAsync($"Product {product} (Scan Reports) has been deleted.");
        await Expect(Page.Locator("#no-products")).ToHaveTextAsync("This team has no products.");
        (await api.GetAsync($"/Product/{product}")).AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeletingATeamThatStillHasProductsShowsTheConflict()
    {
        var api = Service.Api();
        var teamId = (await api.CreateTeamAsync(name: "Busy Team"))["id"]!.GetValue<string>();
        var product = (await api.CreateProductAsync(teamId, "Still Here"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync($"ui/team.html?id={teamId}");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete this team" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Are you sure you want to delete the product team Busy Team?" })).ToBeVisibleAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete this team" }).ClickAsync();

        var summary = Page.Locator(".nhsuk-error-summary");
        await Expect(summary).ToContainTextAsync("This team still has products, so it cannot be deleted. Delete its products first.");
        await Expect(summary).ToContainTextAsync($"Product Team cannot be deleted as it still has associated Product Ids ['{product}']");
        await ExpectErrorSummaryFocusedAsync();
        await CheckPageAsync("delete-team-conflict");
        (await api.GetAsync($"/ProductTeam/{teamId}")).AssertStatus(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeletingAnEmptyTeamAfterConfirmingRemovesItAndReturnsHome()
    {
        var api = Service.Api();
        var alias = Guid.NewGuid().ToString();
        var teamId = (await api.CreateTeamAsync(name: "Short Lived Team", alias: alias))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync($"ui/team.html?id={alias}");

        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete this team" }).ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete this team" }).ClickAsync();

        await Expect(Page).ToHaveURLAsync(new Regex(@"/ui/$"));
        await Expect(Page.Locator(".nhsuk-notification-banner--success")).ToContainTextAsync($"Product team Short Lived Team ({teamId}) has been deleted.");
        await CheckPageAsync("home-team-deleted");
        (await api.GetAsync($"/ProductTeam/{teamId}")).AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SearchingByTeamAliasListsTheTeamsProducts()
    {
        var api = Service.Api();
        var alias = Guid.NewGuid().ToString();
        await api.CreateTeamAsync(name: "Maternity Team", alias: alias);
        var first = (await api.CreateProductAsync(alias, "Birth Notifications"))["id"]!.GetValue<string>();
        var second = (await api.CreateProductAsync(alias, "Antenatal Bookings"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync("ui/search.html");

        await Page.GetByLabel("Product team id or alias").FillAsync(alias);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Find by team" }).ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Products of Maternity Team" })).ToBeFocusedAsync();
        await Expect(Page.Locator("#products-table")).ToContainTextAsync(first);
        await Expect(Page.Locator("#products-table")).ToContainTextAsync(second);
        await Expect(Page).ToHaveURLAsync(new Regex($@"/ui/search\.html\?team={alias}$"));
        await CheckPageAsync("search-by-team");

        await Page.GetByLabel("Product team id or alias").FillAsync("no-such-team");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Find by team" }).ClickAsync();
        await Expect(Page.Locator("#results")).ToContainTextAsync("Could not find ProductTeam for key ('no-such-team')");
    }

    [Fact]
    public async Task SearchingByOrganisationListsItsProductsWithTheirTeamsAndLinksToItsTeams()
    {
        var api = Service.Api();
        var odsCode = Unique.OdsCode();
        var withProducts = await api.CreateTeamAsync(odsCode, "Cardiology Team");
        await api.CreateTeamAsync(odsCode, "Empty Team");
        var product = (await api.CreateProductAsync(withProducts["id"]!.GetValue<string>(), "Echo Reports"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync("ui/search.html");

        await Page.GetByLabel("ODS code").FillAsync(odsCode);
        await Page.GetByLabel("ODS code").PressAsync("Enter");

        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = $"Organisation {odsCode}" })).ToBeFocusedAsync();
        await Expect(Page.Locator("#products-table")).ToContainTextAsync(product);
        await Expect(Page.Locator("#pager")).ToBeHiddenAsync();
        await CheckPageAsync("search-by-organisation");

        await Page.GetByRole(AriaRole.Link, new() { Name = $"List the teams of organisation {odsCode}" }).ClickAsync();
        await Expect(Page.Locator("#teams-table")).ToContainTextAsync("Cardiology Team");
        await Expect(Page.Locator("#teams-table")).ToContainTextAsync("Empty Team");
        await CheckPageAsync("teams-with-key", anyImpact: true);

        await GoAsync($"ui/search.html?organisation={odsCode}");
        await Page.Locator("#products-table").GetByRole(AriaRole.Link, new() { Name = "Cardiology Team" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Cardiology Team", Level = 1 })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task ASearchOpenedFromALinkOrAReloadShowsItsResults()
    {
        var api = Service.Api();
        var odsCode = Unique.OdsCode();
        var team = await api.CreateTeamAsync(odsCode, "Linked Team");
        var product = (await api.CreateProductAsync(team["id"]!.GetValue<string>(), "Linked Product"))["id"]!.GetValue<string>();
        await EnterKeyAsync();

        await GoAsync($"ui/search.html?organisation={odsCode}");
        await Expect(Page.Locator("#products-table")).ToContainTextAsync(product);

        await Page.ReloadAsync();
        await Expect(Page.Locator("#products-table")).ToContainTextAsync(product);
        await GoAsync($"ui/search.html?team={team["id"]}");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Products of Linked Team" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task OpeningAProductByIdShowsItsDetailsAndAnUnknownIdAtTheField()
    {
        var api = Service.Api();
        var alias = Guid.NewGuid().ToString();
        var teamId = (await api.CreateTeamAsync(name: "Pharmacy Team", alias: alias))["id"]!.GetValue<string>();
        var product = (await api.CreateProductAsync(alias, "Prescription Sync"))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync("ui/product.html");

        await Page.GetByLabel("Product id").FillAsync(product);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Open product" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Prescription Sync" })).ToBeFocusedAsync();
        var summary = Page.Locator("#product-summary");
        await Expect(summary).ToContainTextAsync(product);
        await Expect(summary).ToContainTextAsync(teamId);
        await Expect(summary).ToContainTextAsync(alias);
        await CheckPageAsync("product");

        await Page.GetByLabel("Product id").FillAsync("P.NOT-HERE");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Open product" }).ClickAsync();
        await Expect(Page.Locator("#product_id-error")).ToHaveTextAsync("Error: Could not find CpmProduct for key ('P.NOT-HERE')");
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator("#product-summary")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task KeyboardAloneEntersTheKeyCreatesATeamAndCreatesAProduct()
    {
        await GoAsync("ui/key.html");
        await Page.Keyboard.PressAsync("Tab");
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Skip to main content" })).ToBeFocusedAsync();
        await Page.Keyboard.PressAsync("Enter");
        await TabToAsync(Page.GetByLabel("API key", new() { Exact = true }));
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.TypeAsync(UiService.ApiKey);
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page).ToHaveURLAsync(new Regex(@"/ui/$"));

        await TabToAsync(Page.GetByRole(AriaRole.Link, new() { Name = "Create a product team" }));
        await Page.Keyboard.PressAsync("Enter");
        await TabToAsync(Page.GetByLabel("ODS code"));
        await Page.Keyboard.TypeAsync(Unique.OdsCode());
        await TabToAsync(Page.GetByRole(AriaRole.Button, new() { Name = "Create team" }));
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.PressAsync("Enter");

        // The error summary takes focus; its link takes the user to the field.
        await ExpectErrorSummaryFocusedAsync();
        await TabToAsync(Page.Locator(".nhsuk-error-summary a").First);
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.GetByLabel("Team name")).ToBeFocusedAsync();
        await Page.Keyboard.TypeAsync("Keyboard Team");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Keyboard Team", Level = 1 })).ToBeVisibleAsync();

        await TabToAsync(Page.GetByLabel("Product name"));
        await Page.Keyboard.TypeAsync("Keyboard Product");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("#created-panel")).ToBeFocusedAsync();
        await Expect(Page.Locator("#new-product-id")).ToHaveTextAsync(ProductId());
        await Page.Keyboard.PressAsync("Tab");
        await Expect(Page.GetByRole(AriaRole.Button, new() { Name = "Copy product id" })).ToBeFocusedAsync();
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("#copy-status")).ToContainTextAsync("Copied");
    }

    [Fact]
    public async Task AnAdministratorAddsAWebhookSeesItsDeliveriesInWordsAndDeletesItAfterConfirming()
    {
        // Failing from the start: other tests write to the shared service meanwhile, and none of
        // their events may be delivered before the page has shown that nothing was.
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Failing = true;
        await EnterKeyAsync(UiService.AdminKey);
        await GoAsync("ui/webhooks.html");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Add a subscription" })).ToBeVisibleAsync();
        Assert.Equal("password", await Page.GetByLabel("Secret", new() { Exact = true }).GetAttributeAsync("type"));
        Assert.Empty(await Page.GetByLabel("Secret", new() { Exact = true }).GetAttributeAsync("name") ?? "");
        Assert.Equal("off", await Page.GetByLabel("Secret", new() { Exact = true }).GetAttributeAsync("autocomplete"));
        await Expect(Page.Locator("main")).ToContainTextAsync("it is never shown again");
        await CheckPageAsync("webhooks", anyImpact: true);

        // The API's validation, next to the field and in the summary; the secret is typed again.
        await Page.GetByLabel("Address (URL)").FillAsync(receiver.Url);
        await Page.GetByLabel("Secret", new() { Exact = true }).FillAsync("too short");
        await Page.GetByLabel("Description (optional)").FillAsync("UI receiver");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add subscription" }).ClickAsync();
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator("#secret-error")).ToHaveTextAsync("Error: ensure this value has at least 16 characters");
        await Expect(Page.Locator(".nhsuk-error-summary a[href='#secret']")).ToHaveTextAsync("Secret: ensure this value has at least 16 characters");
        await Expect(Page.GetByLabel("Secret", new() { Exact = true })).ToHaveValueAsync("");
        await CheckPageAsync("webhooks-invalid", anyImpact: true);

        await Page.GetByLabel("Secret", new() { Exact = true }).FillAsync("a-secret-of-at-least-16-characters");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Add subscription" }).ClickAsync();
        await Expect(Page.Locator("#success-banner")).ToContainTextAsync($"Subscription to {receiver.Url} added. Its secret is not shown again");
        await Expect(Page.Locator("#secret-error")).ToHaveCountAsync(0);
        await Expect(Page.GetByLabel("Secret", new() { Exact = true })).ToHaveValueAsync("");
        var row = Page.Locator("#webhooks-table tbody tr", new() { HasText = receiver.Url });
        await Expect(row).ToContainTextAsync("UI receiver");
        await Expect(row).ToContainTextAsync("Active");
        Assert.DoesNotContain("a-secret-of-at-least-16-characters", await Page.ContentAsync(), StringComparison.Ordinal);
        await CheckPageAsync("webhooks-added", anyImpact: true);

        // An event after the subscription reaches the failing receiver; the details page says so in words.
        await Service.Api().CreateTeamAsync(name: "Webhook Team");
        await WaitUntilAsync(() => !receiver.Attempts.IsEmpty);
        await row.GetByRole(AriaRole.Link, new() { NameRegex = new Regex("^Details") }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Webhook subscription to {receiver.Url}");
        var state = Page.Locator("#delivery-state");
        await CheckAgainUntilAsync(state, "Failed");
        var id = new Uri(Page.Url).Query["?id=".Length..];
        var startedAt = (await Service.Api().GetAsync($"/Webhooks/{id}", ("apikey", UiService.AdminKey))).Json()["delivered_through"];
        await Expect(state).ToContainTextAsync(startedAt is null
            ? "Nothing yet: no event has been delivered to this address."
            : $"Every event up to number {startedAt} of the change feed has been delivered, or came before this subscription.");
        await Expect(state).ToContainTextAsync(new Regex(@"\d+ events? not yet delivered\."));
        await Expect(state).ToContainTextAsync(new Regex(@"Failed \d+ \w+ \d{4}.* UTC: the receiver answered with HTTP status 500\. It will be tried again\. What went wrong: HTTP 500"));
        await CheckPageAsync("webhook-failing", anyImpact: true);

        // Once the receiver answers, the event is delivered and the page says the receiver is up to date.
        receiver.Failing = false;
        await WaitUntilAsync(() => receiver.Acknowledged.Count > 0);
        await CheckAgainUntilAsync(state, "up to date");
        await Expect(state).ToContainTextAsync("Nothing: the receiver is up to date.");
        await Expect(state).ToContainTextAsync(new Regex(@"Every event up to number \d+ of the change feed has been delivered, or came before this subscription\."));
        await Expect(state).ToContainTextAsync(new Regex(@"Delivered \d+ \w+ \d{4}.* UTC: the receiver answered with HTTP status 200\."));
        await Expect(Page.Locator("#webhook-details")).ToContainTextAsync("never shown again");
        await CheckPageAsync("webhook", anyImpact: true);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete this subscription" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Are you sure you want to delete the subscription to {receiver.Url}?");
        await CheckPageAsync("webhook-delete", anyImpact: true);
        await Page.GetByRole(AriaRole.Link, new() { Name = "No, go back" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex($@"/ui/webhook\.html\?id={id}$"));
        (await Service.Api().GetAsync($"/Webhooks/{id}", ("apikey", UiService.AdminKey))).AssertStatus(HttpStatusCode.OK);

        await Page.GetByRole(AriaRole.Button, new() { Name = "Delete this subscription" }).ClickAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete this subscription" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex(@"/ui/webhooks\.html$"));
        await Expect(Page.Locator("#success-banner")).ToContainTextAsync($"The subscription to {receiver.Url} has been deleted");
        await Expect(Page.Locator("#webhooks-list")).Not.ToContainTextAsync(receiver.Url);
        await CheckPageAsync("webhook-deleted", anyImpact: true);
        (await Service.Api().GetAsync($"/Webhooks/{id}", ("apikey", UiService.AdminKey))).AssertStatus(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AKeyWithoutTheAdminScopeIsToldTheWebhooksPageIsForAdministrators()
    {
        await EnterKeyAsync();
        await GoAsync("ui/webhooks.html");
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync("Only administrators can see and change webhook subscriptions: you need the admin scope.");
        await Expect(Page.Locator(".nhsuk-error-summary")).ToContainTextAsync("Caller 'apikey-0' lacks the 'admin' scope");
        await Expect(Page.Locator("#webhook-form")).ToBeHiddenAsync();
        await Expect(Page.Locator("#loading")).ToHaveCountAsync(0);
        await CheckPageAsync("webhooks-refused", anyImpact: true);
    }

    [Fact]
    public async Task KeyboardAloneAddsAWebhookSubscription()
    {
        var url = $"http://127.0.0.1:9/keyboard-{Guid.NewGuid():N}";
        await EnterKeyAsync(UiService.AdminKey);
        await GoAsync("ui/");
        await TabToAsync(Page.GetByRole(AriaRole.Link, new() { Name = "Manage webhook subscriptions (administrators)" }));
        await Page.Keyboard.PressAsync("Enter");
        await TabToAsync(Page.GetByLabel("Address (URL)"));
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.TypeAsync("not a url");
        await TabToAsync(Page.GetByLabel("Secret", new() { Exact = true }));
        await Page.Keyboard.TypeAsync("keyboard-secret-0123456789");
        await TabToAsync(Page.GetByRole(AriaRole.Button, new() { Name = "Add subscription" }));
        await ExpectVisibleFocusAsync();
        await Page.Keyboard.PressAsync("Enter");

        // The summary takes focus; its link takes the user to the field.
        await ExpectErrorSummaryFocusedAsync();
        await Expect(Page.Locator("#url-error")).ToHaveTextAsync("Error: invalid or missing URL scheme");
        await TabToAsync(Page.Locator(".nhsuk-error-summary a[href='#url']"));
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.GetByLabel("Address (URL)")).ToBeFocusedAsync();
        await Page.Keyboard.PressAsync("Control+A");
        await Page.Keyboard.TypeAsync(url);
        await TabToAsync(Page.GetByLabel("Secret", new() { Exact = true }));
        await Page.Keyboard.TypeAsync("keyboard-secret-0123456789");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.Locator("#success-banner")).ToBeFocusedAsync();
        await Expect(Page.Locator("#webhooks-table")).ToContainTextAsync(url);

        var list = (await Service.Api().GetAsync("/Webhooks", ("apikey", UiService.AdminKey))).Json();
        var id = list["results"]!.AsArray().Single(webhook => webhook!["url"]!.GetValue<string>() == url)!["id"]!.GetValue<string>();
        (await Service.Api().DeleteAsync($"/Webhooks/{id}", ("apikey", UiService.AdminKey))).AssertStatus(HttpStatusCode.OK);
    }

    /// <summary>Follows "Check again" until the delivery state says <paramref name="text"/> (it is saved every second here).</summary>
    private async Task CheckAgainUntilAsync(ILocator state, string text)
    {
        for (var tries = 0; tries < 20 && !(await state.InnerTextAsync()).Contains(text, StringComparison.Ordinal); tries++)
        {
            await Task.Delay(500);
            await Page.GetByRole(AriaRole.Link, new() { Name = "Check again" }).ClickAsync();
            await Expect(state).ToBeVisibleAsync();
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var waited = TimeSpan.Zero; !condition(); waited += TimeSpan.FromMilliseconds(100))
        {
            Assert.True(waited < TimeSpan.FromSeconds(20), "the condition did not hold within 20 s");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task NamesFromTheApiAreShownAsTextNeverAsMarkup()
    {
        const string name = "<img src=x onerror=window.injected=1> <b>Bold</b>";
        var teamId = (await Service.Api().CreateTeamAsync(name: name))["id"]!.GetValue<string>();
        await EnterKeyAsync();
        await GoAsync($"ui/team.html?id={teamId}");

        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(name);
        await Expect(Page.Locator("main img, main b")).ToHaveCountAsync(0);
        Assert.False(await Page.EvaluateAsync<bool>("'injected' in window"));
    }

    [Fact]
    public async Task WithoutJavaScriptEveryPageSaysItNeedsIt()
    {
        await using var context = await Service.Browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        var page = await context.NewPageAsync();
        foreach (var path in new[] { "ui/", "ui/key.html", "ui/team-new.html", "ui/team.html?id=x", "ui/delete.html?team=x", "ui/search.html", "ui/product.html",
            "ui/teams.html", "ui/rename.html?team=x", "ui/restore.html", "ui/history.html?team=x", "ui/export.html",
            "ui/webhooks.html", "ui/webhook.html?id=x", "ui/webhook-delete.html?id=x" })
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
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Service.BaseUrl };
        using var redirect = await http.GetAsync("ui");
        Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
        Assert.Equal(new Uri(Service.BaseUrl, "ui/"), redirect.Headers.Location);

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
}
