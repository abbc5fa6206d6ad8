using System.Reflection;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Network.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Tests.Hosting;

/// <summary>
/// Hosts (the GPU runner, the Functions app, the CLI) must be able to use the engine without referencing ONNX Runtime:
/// its types would tie every host to the runtime's version and let its exceptions leak past the engine's taxonomy.
/// CodeFormer.Network is scanned too: the CLI's <c>models build</c> and the converters use it directly, and it is meant to
/// stay free of any inference runtime (its project says so).
/// </summary>
public sealed class PublicApiTests
{
    private const string OnnxRuntimeNamespace = "Microsoft.ML.OnnxRuntime";

    [Fact]
    public void Engine_public_api_names_no_onnx_runtime_type()
    {
        var offenders = OnnxRuntimeTypesInPublicSignatures(typeof(RestorationEngine).Assembly);

        Assert.True(offenders.Count == 0, "ONNX Runtime types in CodeFormer.Engine's public API:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void Network_public_api_names_no_onnx_runtime_type()
    {
        var offenders = OnnxRuntimeTypesInPublicSignatures(typeof(OnnxGraph).Assembly);

        Assert.True(offenders.Count == 0, "ONNX Runtime types in CodeFormer.Network's public API:\n" + string.Join("\n", offenders));
    }

    /// <summary>The scan itself must see every kind of leak, or the two tests above prove nothing.</summary>
    [Fact]
    public void The_scan_finds_onnx_runtime_types_in_every_kind_of_public_member()
    {
        var offenders = OnnxRuntimeTypesInPublicSignatures(typeof(LeakyExamples).Assembly)
            .Where(o => o.Contains(nameof(LeakyExamples), StringComparison.Ordinal))
            .ToList();

        Assert.Contains(offenders, o => o.Contains(".ctor", StringComparison.Ordinal) && o.Contains(nameof(SessionOptions), StringComparison.Ordinal));
        Assert.Contains(offenders, o => o.Contains(nameof(LeakyExamples.ElementType), StringComparison.Ordinal));
        Assert.Contains(offenders, o => o.Contains(nameof(LeakyExamples.Open), StringComparison.Ordinal));
        Assert.Contains(offenders, o => o.Contains(nameof(LeakyExamples.Sessions), StringComparison.Ordinal) && o.Contains(nameof(InferenceSession), StringComparison.Ordinal));
        Assert.Contains(offenders, o => o.Contains(nameof(LeakyExamples.Value), StringComparison.Ordinal));
        Assert.Contains(offenders, o => o.Contains("protected", StringComparison.Ordinal) || o.Contains("Protected", StringComparison.Ordinal));
        Assert.Contains(offenders, o => o.Contains("base type", StringComparison.Ordinal));
        Assert.DoesNotContain(offenders, o => o.Contains("Hidden", StringComparison.Ordinal));
    }

    /// <summary>One line per public or protected member (or base type/interface) of an exported type that mentions ONNX Runtime.</summary>
    internal static List<string> OnnxRuntimeTypesInPublicSignatures(Assembly assembly)
    {
        var offenders = new List<string>();
        foreach (var type in assembly.GetExportedTypes())
        {
            if (type.BaseType is { } baseType && Mentions(baseType))
            {
                offenders.Add($"{type.FullName}: base type {baseType}");
            }
            foreach (var contract in type.GetInterfaces().Where(Mentions))
            {
                offenders.Add($"{type.FullName}: interface {contract}");
            }
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var member in type.GetMembers(all))
            {
                foreach (var (visibility, signatureTypes) in Describe(member))
                {
                    if (visibility is not null && signatureTypes.FirstOrDefault(Mentions) is { } leak)
                    {
                        offenders.Add($"{type.FullName}.{member.Name} ({visibility}): {leak}");
                    }
                }
            }
        }
        return offenders;
    }

    /// <summary>The visibility (null when outside code cannot see it) and the types a member's signature names.</summary>
    private static IEnumerable<(string? Visibility, Type[] Types)> Describe(MemberInfo member)
    {
        switch (member)
        {
            case FieldInfo field:
                yield return (Visibility(field.IsPublic, field.IsFamily || field.IsFamilyOrAssembly), [field.FieldType]);
                break;
            case MethodBase method:
                var types = method.GetParameters().Select(p => p.ParameterType).ToList();
                if (method is MethodInfo info)
                {
                    types.Add(info.ReturnType);
                }
                yield return (Visibility(method.IsPublic, method.IsFamily || method.IsFamilyOrAssembly), [.. types]);
                break;
            case PropertyInfo property:
                // A property is visible when either accessor is; the accessors are also listed as methods, this names it plainly.
                var accessors = property.GetAccessors(nonPublic: true);
                yield return (Visibility(accessors.Any(a => a.IsPublic), accessors.Any(a => a.IsFamily || a.IsFamilyOrAssembly)), [property.PropertyType]);
                break;
            case EventInfo @event when @event.EventHandlerType is { } handler:
                var add = @event.GetAddMethod(nonPublic: true);
                yield return (Visibility(add?.IsPublic == true, add is { IsFamily: true } or { IsFamilyOrAssembly: true }), [handler]);
                break;
        }
    }

    private static string? Visibility(bool isPublic, bool isProtected) => isPublic ? "public" : isProtected ? "protected" : null;

    /// <summary>Whether a type is, or is built from (array, by-ref, pointer, generic argument), an ONNX Runtime type.</summary>
    private static bool Mentions(Type type)
    {
        if (type.HasElementType)
        {
            return Mentions(type.GetElementType()!);
        }
        if (type.IsGenericParameter)
        {
            return false;
        }
        if (type.Namespace is { } ns && (ns == OnnxRuntimeNamespace || ns.StartsWith(OnnxRuntimeNamespace + ".", StringComparison.Ordinal)))
        {
            return true;
        }
        return type.IsGenericType && type.GetGenericArguments().Any(Mentions);
    }
}

/// <summary>Public on purpose: the scan only looks at exported types. Every member but the internal one leaks ONNX Runtime.</summary>
public class LeakyExamples(SessionOptions options) : List<OrtValue>
{
    public Microsoft.ML.OnnxRuntime.Tensors.TensorElementType ElementType { get; set; }
    public Dictionary<string, InferenceSession> Sessions { get; } = [];
    public OrtValue? Value;
    public SessionOptions Options { get; } = options;

    public static LeakyExamples Open(RunOptions run) => throw new NotSupportedException(run.ToString());

    protected static void ProtectedLeak(OrtIoBinding binding) => binding.ClearBoundInputs();

    internal static void Hidden(SessionOptions options) => options.Dispose();
}
