using System.Collections.Concurrent;
using System.Reflection;
using Cpm.Api.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>
/// The service's own store, wrapped: counts the calls made to it by method name, and can make the
/// lease calls fail as they would for a node cut off from the store (so it stops renewing).
/// </summary>
public class StoreProxy : DispatchProxy
{
    private static readonly HashSet<string> LeaseCalls = ["TryTakeLeaseAsync", "SaveDeliveryProgressAsync", "ReleaseLeaseAsync"];

    private object _inner = null!;

    public ConcurrentDictionary<string, int> Calls { get; } = new();

    /// <summary>While set, every lease call fails as if the store could not be reached.</summary>
    public bool LeasesCutOff { get; set; }

    public int CallsTo(string method) => Calls.GetValueOrDefault(method);

    /// <summary>Replaces the service's store with a proxy around it; the proxy is handed to <paramref name="created"/>.</summary>
    public static void Wrap(IServiceCollection services, Action<StoreProxy> created)
    {
        var descriptor = services.Last(d => d.ServiceType == typeof(ICpmStore));
        var implementation = descriptor.ImplementationType!;
        services.Remove(descriptor);
        services.AddSingleton(implementation);
        services.AddSingleton(provider =>
        {
            var store = DispatchProxy.Create<ICpmStore, StoreProxy>();
            var proxy = (StoreProxy)(object)store;
            proxy._inner = provider.GetRequiredService(implementation);
            created(proxy);
            return store;
        });
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        Calls.AddOrUpdate(targetMethod!.Name, 1, (_, count) => count + 1);
        if (LeasesCutOff && LeaseCalls.Contains(targetMethod.Name))
        {
            throw new StorageUnavailableException("The test cut this node off from the store.");
        }

        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException failure) when (failure.InnerException is not null)
        {
            throw failure.InnerException;
        }
    }
}
