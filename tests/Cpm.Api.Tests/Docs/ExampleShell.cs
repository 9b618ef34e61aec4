using System.Diagnostics;

namespace Cpm.Api.Tests.Docs;

/// <summary>What a run of examples did: bash's exit code, one line per answer in order, and what bash printed.</summary>
public sealed record ExampleRun(int ExitCode, IReadOnlyList<string> Answers, string Output, string Errors);

/// <summary>
/// Runs shell examples the way a reader pasting them one after another does: one bash session, so
/// variables set by one command carry to the next, in a fresh folder. Two wrappers come first on
/// PATH. <c>curl</c> runs the real curl with the same arguments, passes its output through
/// unchanged and records <c>STATUS METHOD URL</c> of the answer. <c>dotnet run --project
/// src/Cpm.Api -- ARGS</c> runs the Cpm.Api.dll built next to the tests with ARGS instead of
/// building the project again, as <c>dotnet run</c> would run it: in Development, from the app's
/// folder; it records <c>exit CODE dotnet run ARG1</c>. Any other <c>dotnet</c> command fails.
/// </summary>
public static class ExampleShell
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    // Only one -w counts, so an example's own -w is kept and ours follows it, on stderr, marked;
    // curl -q first, so a .curlrc on the machine cannot change the examples.
    private const string CurlWrapper = """
        #!/usr/bin/env bash
        arguments=()
        format=''
        while (($#)); do
          case $1 in
            -w | --write-out) format=$2; shift 2 ;;
            *) arguments+=("$1"); shift ;;
          esac
        done
        errors=$(mktemp)
        "$CPM_REAL_CURL" -q "${arguments[@]}" -w "$format%{stderr}@cpm-answer@ %{http_code} %{method} %{url_effective}\n" 2>"$errors"
        exit_code=$?
        sed -n 's/.*@cpm-answer@ //p' "$errors" >>"$CPM_ANSWERS"
        grep -v '@cpm-answer@ ' "$errors" >&2
        rm -f "$errors"
        exit "$exit_code"
        """;

    private const string DotnetWrapper = """
        #!/usr/bin/env bash
        if [[ $# -ge 5 && $1 == run && $2 == --project && $3 == src/Cpm.Api && $4 == -- ]]; then
          shift 4
          (cd "$(dirname "$CPM_API_DLL")" && ASPNETCORE_ENVIRONMENT=Development "$CPM_REAL_DOTNET" "$CPM_API_DLL" "$@")
          exit_code=$?
          echo "exit $exit_code dotnet run $1" >>"$CPM_ANSWERS"
          exit "$exit_code"
        fi
        echo "dotnet $*: the examples may run only 'dotnet run --project src/Cpm.Api -- ...'" >&2
        exit 127
        """;

    /// <summary>Runs <paramref name="script"/> under <c>set -euo pipefail</c>, so a failing command or an unset variable stops it.</summary>
    public static async Task<ExampleRun> RunAsync(string script)
    {
        var directory = Directory.CreateTempSubdirectory("cpm-examples-").FullName;
        try
        {
            var tools = Directory.CreateDirectory(Path.Combine(directory, "bin")).FullName;
            WriteExecutable(Path.Combine(tools, "curl"), CurlWrapper);
            WriteExecutable(Path.Combine(tools, "dotnet"), DotnetWrapper);
            var answers = Path.Combine(directory, "answers.txt");
            File.WriteAllText(answers, "");
            var work = Directory.CreateDirectory(Path.Combine(directory, "work")).FullName;
            var scriptPath = Path.Combine(directory, "examples.sh");
            File.WriteAllText(scriptPath, "set -euo pipefail\n" + script);

            var start = new ProcessStartInfo("bash")
            {
                WorkingDirectory = work,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[] { "--noprofile", "--norc", scriptPath })
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["PATH"] = tools + ":" + Environment.GetEnvironmentVariable("PATH");
            start.Environment["CPM_REAL_CURL"] = FindOnPath("curl");
            start.Environment["CPM_REAL_DOTNET"] = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? FindOnPath("dotnet");
            start.Environment["CPM_API_DLL"] = Path.Combine(AppContext.BaseDirectory, "Cpm.Api.dll");
            start.Environment["CPM_ANSWERS"] = answers;

            using var bash = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
            var output = bash.StandardOutput.ReadToEndAsync();
            var errors = bash.StandardError.ReadToEndAsync();
            try
            {
                await bash.WaitForExitAsync().WaitAsync(Timeout);
            }
            catch (TimeoutException)
            {
                bash.Kill(entireProcessTree: true);
                throw new TimeoutException($"The examples did not finish within {Timeout.TotalMinutes} minutes:\n{File.ReadAllText(answers)}");
            }

            return new ExampleRun(bash.ExitCode, File.ReadAllLines(answers), await output, await errors);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void WriteExecutable(string path, string text)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The examples are bash scripts.");
        }

        File.WriteAllText(path, text + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static string FindOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, command))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{command} is not on PATH; the examples need it.");
}
