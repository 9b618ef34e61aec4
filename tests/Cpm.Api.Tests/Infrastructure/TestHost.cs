using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// The one way the tests build the service in their own process: the Test environment, the given
/// settings, and optional service overrides (a clock, a log sink, AWS credentials).
/// </summary>
public static class TestHost
{
    public static WebApplicationFactory<Program> Create(IEnumerable<KeyValuePair<string, string?>> settings, Action<IServiceCollection>? services = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            host.UseEnvironment("Test");
            foreach (var (key, value) in settings)
            {
                host.UseSetting(key, value);
            }

            if (services is not null)
            {
                host.ConfigureTestServices(services);
            }
        });

    /// <summary>Starts the service on a real Kestrel on a free loopback port, so requests cross real HTTP parsing.</summary>
    public static Uri StartOnLoopback(WebApplicationFactory<Program> factory)
    {
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        return new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }
}
