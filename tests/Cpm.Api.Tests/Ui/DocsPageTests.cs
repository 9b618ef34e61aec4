using System.Net;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Cpm.Api.Tests.Ui;

/// <summary>
/// The API reference at /docs in a real browser: it shows this service's operations and nothing
/// else, no link, button or request leads to another origin, and it carries the UI's headers.
/// </summary>
public sealed class DocsPageTests(UiService service, ITestOutputHelper output) : IClassFixture<UiService>
{
    private static readonly string[] OutsideFeatures = ["Ask AI", "Agent", "Generate SDK", "Deploy", "Share", "Powered by", "Scalar", "MCP"];

    [Fact]
    public async Task DocsPageShowsOnlyThisServiceWithNoWayToAnOutsideService()
    {
        var consoleErrors = new List<string>();
        var foreignRequests = new List<string>();
        var origin = service.BaseUrl.GetLeftPart(UriPartial.Authority);
        await using var context = await service.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        context.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(origin, StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal))
            {
                foreignRequests.Add(request.Url);
            }
        };
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                consoleErrors.Add($"{message.Type}: {message.Text}");
            }
        };
        page.PageError += (_, error) => consoleErrors.Add(error);

        await page.GotoAsync(new Uri(service.BaseUrl, "docs/").ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Connecting Party Manager", Exact = true })).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(page.GetByText("Readiness: storage answers a real round trip; 503 otherwise").First).ToBeAttachedAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(UiService.ScreenshotDirectory, "docs.png") });

        // The built-in client sends to the service the page came from.
        await page.Locator("button:has-text('Test Request')").First.ClickAsync();
        var ping = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Send get request" }).First.ClickAsync(),
            response => response.Url.EndsWith("_ping", StringComparison.Ordinal));
        Assert.Equal(new Uri(service.BaseUrl, "_ping").ToString(), ping.Url);
        Assert.Equal(200, ping.Status);

        const string Shown = "e => e.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })";
        var links = await page.EvaluateAsync<string[]>(
            $"() => [...document.querySelectorAll('a[href], [formaction], iframe[src]')].filter({Shown}).map(e => e.href || e.formAction || e.src)");
        var controls = await page.EvaluateAsync<string[]>(
            $"() => [...document.querySelectorAll('a, button, [role=button], [role=link], [role=menuitem]')].filter({Shown}).map(e => (e.innerText || e.getAttribute('aria-label') || '').trim()).filter(t => t)");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(UiService.ScreenshotDirectory, "docs-client.png") });
        output.WriteLine($"links: {string.Join(" | ", links.Distinct())}");
        output.WriteLine($"controls: {string.Join(" | ", controls.Distinct())}");

        Assert.True(consoleErrors.Count == 0, $"console errors or warnings (a CSP violation is one): {string.Join("; ", consoleErrors)}");
        Assert.True(foreignRequests.Count == 0, $"requests outside the service: {string.Join(", ", foreignRequests)}");
        var outside = links.Where(link => !link.StartsWith(origin, StringComparison.Ordinal) && !link.StartsWith("blob:" + origin, StringComparison.Ordinal)).ToList();
        Assert.True(outside.Count == 0, $"links to other origins: {string.Join(", ", outside)}");
        var features = controls.Where(text => OutsideFeatures.Any(feature => text.Contains(feature, StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.True(features.Count == 0, $"controls for outside services: {string.Join(", ", features)}");
    }

    [Fact]
    public async Task DocsPageAndItsAssetsCarryTheUiPagesSecurityHeaders()
    {
        using var http = new HttpClient { BaseAddress = service.BaseUrl };
        using var ui = await http.GetAsync("ui/");
        foreach (var path in new[] { "docs/", "docs/scalar.js" })
        {
            using var docs = await http.GetAsync(path);

            Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
            foreach (var header in new[] { "X-Content-Type-Options", "Referrer-Policy", "Cache-Control" })
            {
                Assert.Equal(ui.Headers.GetValues(header), docs.Headers.GetValues(header));
            }

            // The same policy, except the nonce of the page's inline start-up script and the styles its script injects.
            var policy = Directives(docs);
            var uiPolicy = Directives(ui);
            Assert.Equal(uiPolicy.Keys.Order(), policy.Keys.Order());
            Assert.All(uiPolicy.Where(d => d.Key is not ("script-src" or "style-src")), d => Assert.Equal(d.Value, policy[d.Key]));
            Assert.Matches(path == "docs/" ? "^'self' 'nonce-[A-Za-z0-9_-]{20,}'$" : "^'self'$", policy["script-src"]);
            Assert.Equal("'self' 'unsafe-inline'", policy["style-src"]);
        }
    }

    private static Dictionary<string, string> Directives(HttpResponseMessage response) =>
        string.Join(";", response.Headers.GetValues("Content-Security-Policy"))
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToDictionary(directive => directive.Split(' ')[0], directive => directive[(directive.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
}
