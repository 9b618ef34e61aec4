using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Cpm.Api.Tests.Ui;

/// <summary>
/// One browser context and page per test, and the checks every page state gets: no axe
/// violation of the impacts that count, no console error (CSP violations included), no request
/// leaving the service's origin (or the sign-in provider's), and a screenshot.
/// </summary>
public abstract partial class UiBrowserTests<TService>(TService service, ITestOutputHelper output) : IAsyncLifetime
    where TService : UiService
{
    private readonly List<string> _consoleErrors = [];
    private readonly List<string> _foreignRequests = [];

    protected TService Service => service;

    protected IBrowserContext Context { get; private set; } = null!;

    protected IPage Page { get; set; } = null!;

    public async Task InitializeAsync()
    {
        Context = await NewContextAsync();
        Page = await NewPageAsync(Context);
    }

    public async Task DisposeAsync() => await Context.CloseAsync();

    protected async Task<IBrowserContext> NewContextAsync()
    {
        var context = await service.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = service.BaseUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Permissions = ["clipboard-read", "clipboard-write"],
            Locale = "en-GB",
        });
        context.SetDefaultTimeout(10_000);
        var origins = service.OtherOrigins.Prepend(service.BaseUrl.GetLeftPart(UriPartial.Authority)).Select(origin => origin.TrimEnd('/') + "/").ToList();
        context.Request += (_, request) =>
        {
            if (!origins.Any(origin => request.Url.StartsWith(origin, StringComparison.Ordinal)))
            {
                _foreignRequests.Add(request.Url);
            }
        };
        return context;
    }

    protected async Task<IPage> NewPageAsync(IBrowserContext context)
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

    protected string Url(string path) => new Uri(service.BaseUrl, path).ToString();

    protected async Task GoAsync(string path) => await Page.GotoAsync(Url(path));

    /// <summary>
    /// Puts the key in the tab's session storage as the key form does (that form has its own
    /// tests), so the other flows start where a user who entered it would be.
    /// </summary>
    protected async Task EnterKeyAsync(string key = UiService.ApiKey) =>
        await Context.AddInitScriptAsync($"if (!sessionStorage.getItem('cpm.apiKey')) sessionStorage.setItem('cpm.apiKey', '{key}');");

    /// <summary>
    /// The checks every page state gets: axe finds no violation (with <paramref name="anyImpact"/>
    /// false, none serious or critical, the bar the first pages were built to), the console has
    /// no error (a CSP violation would be one), nothing was fetched from another origin; and a
    /// full-page screenshot for people to look at.
    /// </summary>
    protected async Task CheckPageAsync(string name, bool anyImpact = false)
    {
        // The single-page run: RunAxe's default finishes each run in a second, blank page, which
        // takes two to three times as long and adds nothing for pages without frames.
#pragma warning disable CS0618
        var results = await Page.RunAxeLegacy();
#pragma warning restore CS0618
        foreach (var violation in results.Violations)
        {
            output.WriteLine($"axe {name}: {violation.Impact} {violation.Id}: {violation.Help} ({string.Join(", ", violation.Nodes.Select(node => string.Join(" ", node.Target)))})");
        }

        output.WriteLine($"axe {name}: {results.Violations.Length} violations, {results.Passes.Length} rules passed, {results.Incomplete.Length} to review ({string.Join(", ", results.Incomplete.Select(item => item.Id))})");
        var blocking = results.Violations.Where(violation => anyImpact || violation.Impact is "serious" or "critical").Select(violation => $"{violation.Impact} {violation.Id}: {violation.Help}").ToList();
        Assert.True(blocking.Count == 0, $"axe on {name}: {string.Join("; ", blocking)}");
        Assert.True(_consoleErrors.Count == 0, $"console errors on {name}: {string.Join("; ", _consoleErrors)}");
        Assert.True(_foreignRequests.Count == 0, $"requests outside the service on {name}: {string.Join(", ", _foreignRequests)}");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(UiService.ScreenshotDirectory, $"{name}.png"), FullPage = true });
    }

    protected async Task ExpectErrorSummaryFocusedAsync()
    {
        await Expect(Page.Locator(".nhsuk-error-summary")).ToBeFocusedAsync();
        await Expect(Page.Locator(".nhsuk-error-summary h2")).ToHaveTextAsync("There is a problem");
    }

    /// <summary>Presses Tab, as a keyboard user would, until the element has focus (at most 40 times).</summary>
    protected async Task TabToAsync(ILocator target)
    {
        for (var presses = 0; presses < 40; presses++)
        {
            if (await target.EvaluateAsync<bool>("element => element === document.activeElement"))
            {
                return;
            }

            await Page.Keyboard.PressAsync("Tab");
        }

        Assert.Fail($"Tab never reached {target}");
    }

    /// <summary>The focused element shows NHS's yellow focus style (WCAG 2.4.7).</summary>
    protected async Task ExpectVisibleFocusAsync()
    {
        var style = await Page.EvaluateAsync<string>("() => { const s = getComputedStyle(document.activeElement); return [s.backgroundColor, s.boxShadow, s.outlineColor].join(' '); }");
        Assert.Contains("rgb(255, 235, 59)", style, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^P\.[ACDEFGHJKLMNPRTUVWXY34679]{3}-[ACDEFGHJKLMNPRTUVWXY34679]{3}$")]
    protected static partial Regex ProductId();
}
