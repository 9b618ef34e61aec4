using System.Globalization;
using System.Text.RegularExpressions;
using Cpm.Api.Tests.Infrastructure;

namespace Cpm.Api.Tests.Fleet;

/// <summary>
/// The stack deploys the fleet these tests prove: one kind of task (webhooks delivered by every
/// task, none turned off), the balancer checking <c>/_ready</c>, and ECS waiting long enough after
/// SIGTERM for the drain and the host's shutdown before it kills a task.
/// </summary>
public sealed partial class DeployTemplateTests
{
    // The host's own time to finish requests and background work after the drain (HostOptions' default).
    private static readonly TimeSpan HostShutdownTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EveryTaskIsAlikeTheBalancerChecksReadinessAndAStoppingTaskHasTimeToDrain()
    {
        var stack = await File.ReadAllTextAsync(Repository.PathOf("deploy/aws/cpm.yaml"));

        Assert.DoesNotContain("Webhooks__", stack, StringComparison.Ordinal);
        Assert.Single(Regex.Matches(stack, @"Type: AWS::ECS::TaskDefinition"));
        Assert.Single(Regex.Matches(stack, @"Type: AWS::ECS::Service\b"));
        Assert.Contains("HealthCheckPath: /_ready", stack, StringComparison.Ordinal);

        var drain = TimeSpan.Parse(DrainDelay().Match(stack).Groups[1].Value, CultureInfo.InvariantCulture);
        var stopTimeout = TimeSpan.FromSeconds(int.Parse(StopTimeout().Match(stack).Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.InRange(drain, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.True(stopTimeout >= drain + HostShutdownTimeout, $"StopTimeout {stopTimeout} leaves no room for the drain {drain} and the host's {HostShutdownTimeout}.");
    }

    [GeneratedRegex(@"Name: Shutdown__DrainDelay, Value: ""([0-9:]+)""")]
    private static partial Regex DrainDelay();

    [GeneratedRegex(@"StopTimeout: (\d+)")]
    private static partial Regex StopTimeout();
}
