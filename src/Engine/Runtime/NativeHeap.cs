using System.Runtime.InteropServices;

namespace CodeFormer.Engine.Runtime;

/// <summary>
/// Gives the native heap's free memory back to the system. ONNX Runtime's tensors are allocated with malloc; glibc
/// keeps freed blocks under its (adaptive, up to 32 MiB) mmap threshold in the process, so after a CodeFormer call
/// about 450 MiB of freed activations stayed resident under the canvas and the encode that follow (measured by
/// <c>bench memory</c>). <c>malloc_trim(0)</c> returns them; it takes milliseconds.
/// </summary>
internal static partial class NativeHeap
{
    private static bool _unavailable = !OperatingSystem.IsLinux();

    public static void Trim()
    {
        if (_unavailable)
        {
            return;
        }
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl): nothing to trim this way.
            _unavailable = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
