namespace CodeFormer.Engine.Runtime;

/// <summary>
/// The process's peak resident set (VmHWM), and a way to start it afresh: on Linux, writing 5 to /proc/self/clear_refs
/// resets the high-water mark to the current resident set (Linux 4.0+). A video run resets it when it starts, so the
/// peak it reports is the one reached while that video ran, not one left by an earlier video or photo of the process.
/// </summary>
internal static class PeakResidentMemory
{
    /// <summary>Resets the peak; false where the system does not allow it (not Linux, or /proc not writable).</summary>
    public static bool TryReset()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The peak resident set in bytes since the process started or the last successful <see cref="TryReset"/>.</summary>
    public static long Bytes()
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
