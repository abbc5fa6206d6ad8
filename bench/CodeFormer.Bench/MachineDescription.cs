using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace CodeFormer.Bench;

/// <summary>One line naming the machine, runtime and date, printed above every result.</summary>
internal static class MachineDescription
{
    public static string Describe()
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
            : RuntimeInformation.ProcessArchitecture.ToString();
        string simd = Avx512F.IsSupported ? "AVX-512" : Avx2.IsSupported ? "AVX2" : "no AVX2";
        return $"> {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC · {cpu} · {Environment.ProcessorCount} cores · {simd} · " +
            $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB · {RuntimeInformation.FrameworkDescription} · {RuntimeInformation.OSDescription}";
    }
}
