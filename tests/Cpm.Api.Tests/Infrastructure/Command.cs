using System.Diagnostics;

namespace Cpm.Api.Tests.Infrastructure;

/// <summary>What a finished program left: its exit code and both output streams.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>Runs a program to its end, bounded in time, and kills it if it overruns.</summary>
public static class Command
{
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    /// <summary><c>dotnet Cpm.Api.dll ARGS</c>: the service built next to the tests, run as operators run it.</summary>
    public static Task<CommandResult> CpmApiAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null) =>
        RunAsync(Dotnet, [Path.Combine(AppContext.BaseDirectory, "Cpm.Api.dll"), .. arguments], environment: environment);

    public static async Task<CommandResult> RunAsync(string program, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} did not finish in time.\n{await output}\n{await error}");
        }

        return new CommandResult(process.ExitCode, await output, await error);
    }
}
