using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// Reads one pickle (protocols 0–5, the opcodes <c>torch.save</c> emits) into plain values:
/// <c>null</c>, <c>bool</c>, <c>long</c> (or <see cref="BigInteger"/> beyond 64 bits), <c>double</c>,
/// <c>string</c>, <c>byte[]</c>, <c>object?[]</c> for tuples, <c>List&lt;object?&gt;</c> for lists and
/// <see cref="PickleDict"/> for dicts.
/// Security: GLOBAL and STACK_GLOBAL go through <paramref name="resolveGlobal"/>, which must refuse
/// everything outside its allow-list; only <see cref="IPickleCallable"/> results can be called, so a
/// hostile pickle cannot run code, only fail with a message.
/// </summary>
internal sealed class PickleUnpickler(
    Stream stream,
    Func<string, string, object> resolveGlobal,
    Func<object?, object?> persistentLoad)
{
    private const int HighestProtocol = 5;

    /// <summary>
    /// Opcodes one pickle may execute. Each opcode costs at most a few dozen bytes (a stack slot, a memo entry, a boxed
    /// number), so this bounds the memory a pickle can build without a single tensor: 50 M one-byte DUP or MEMOIZE
    /// opcodes deflate to 50 KB and built gigabytes of references. A real state dict (CodeFormer: about 1,200 tensors,
    /// some 20 opcodes each) needs a few tens of thousands.
    /// </summary>
    internal const int MaxOpcodes = 4_000_000;

    /// <summary>
    /// The longest text, bytes or integer field. State-dict pickles hold names and small integers; the tensor data is in
    /// separate storages. A longer field is not a weights file, and converting a huge string (UTF-16, or an integer to a
    /// BigInteger) costs time and memory out of proportion to its bytes.
    /// </summary>
    internal const int MaxFieldBytes = 1 << 20;

    /// <summary>
    /// The most bytes one pickle may span: a real data.pkl is tens to hundreds of kilobytes. Also bounds the text a
    /// pickle can hold in all (legacy checkpoints read the pickle straight from the file, with no entry size to check).
    /// </summary>
    internal const long MaxPickleBytes = 32L << 20;

    /// <summary>LONG1/LONG4 integers wider than this are refused: no shape, stride or offset needs more than 64 bits.</summary>
    private const int MaxIntegerBytes = 64;

    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private readonly long _startPosition = stream.CanSeek ? stream.Position : 0;
    private long _offset;
    private int _opcodes;

    /// <summary>Reads up to and including STOP; the stream is left just after it.</summary>
    public object? Load()
    {
        while (true)
        {
            long opcodeOffset = _offset;
            int opcode = ReadByte();
            if (++_opcodes > MaxOpcodes)
            {
                throw Error($"the pickle runs more than {MaxOpcodes} opcodes, far more than a weights checkpoint needs (a pickle that builds gigabytes of objects)", opcodeOffset);
            }
            if (opcode == '.')
            {
                return Pop(opcodeOffset);
            }
            Execute(opcode, opcodeOffset);
        }
    }

    private void Execute(int opcode, long at)
    {
        switch (opcode)
        {
            case 0x80: // PROTO
                int protocol = ReadByte();
                if (protocol > HighestProtocol)
                {
                    throw Error($"pickle protocol {protocol} is newer than the highest supported ({HighestProtocol})", at);
                }
                break;
            case 0x95: // FRAME: a length hint for buffered readers; the opcodes inside follow directly.
                ReadInt64();
                break;
            case '(': // MARK
                _marks.Add(_stack.Count);
                break;
            case '}': // EMPTY_DICT
                Push(new PickleDict());
                break;
            case ']': // EMPTY_LIST
                Push(new List<object?>());
                break;
            case ')': // EMPTY_TUPLE
                Push(Array.Empty<object?>());
                break;
            case 'N': // NONE
                Push(null);
                break;
            case 0x88: // NEWTRUE
                Push(true);
                break;
            case 0x89: // NEWFALSE
                Push(false);
                break;
            case 'J': // BININT
                Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4, at)));
                break;
            case 'K': // BININT1
                Push((long)ReadByte());
                break;
            case 'M': // BININT2
                Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2, at)));
                break;
            case 0x8a: // LONG1
                Push(ReadLong(ReadByte(), at));
                break;
            case 0x8b: // LONG4
                Push(ReadLong(ReadLength(4, at), at));
                break;
            case 'I': // INT (protocol 0 text; also encodes True/False as 01/00)
                Push(ParseTextInt(ReadLine(at), at));
                break;
            case 'L': // LONG (protocol 0 text, trailing 'L')
                Push(ParseTextInt(ReadLine(at).TrimEnd('L'), at));
                break;
            case 'G': // BINFLOAT: big-endian IEEE double
                Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8, at)));
                break;
            case 'X': // BINUNICODE
                Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(4, at), at)));
                break;
            case 0x8c: // SHORT_BINUNICODE
                Push(Encoding.UTF8.GetString(ReadBytes(ReadByte(), at)));
                break;
            case 0x8d: // BINUNICODE8
                Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(8, at), at)));
                break;
            case 'T': // BINSTRING (Python 2 str): Latin-1 maps each byte to one char, losing nothing.
                Push(Encoding.Latin1.GetString(ReadBytes(ReadLength(4, at), at)));
                break;
            case 'U': // SHORT_BINSTRING
                Push(Encoding.Latin1.GetString(ReadBytes(ReadByte(), at)));
                break;
            case 'B': // BINBYTES
                Push(ReadBytes(ReadLength(4, at), at));
                break;
            case 'C': // SHORT_BINBYTES
                Push(ReadBytes(ReadByte(), at));
                break;
            case 0x8e: // BINBYTES8
                Push(ReadBytes(ReadLength(8, at), at));
                break;
            case 0x96: // BYTEARRAY8
                Push(ReadBytes(ReadLength(8, at), at));
                break;
            case 't': // TUPLE
                Push(PopMark(at).ToArray());
                break;
            case 0x85: // TUPLE1
                Push(PopMany(1, at));
                break;
            case 0x86: // TUPLE2
                Push(PopMany(2, at));
                break;
            case 0x87: // TUPLE3
                Push(PopMany(3, at));
                break;
            case 'l': // LIST
                Push(PopMark(at));
                break;
            case 'a': // APPEND
            {
                object? item = Pop(at);
                Peek<List<object?>>("APPEND", at).Add(item);
                break;
            }
            case 'e': // APPENDS
            {
                var items = PopMark(at);
                Peek<List<object?>>("APPENDS", at).AddRange(items);
                break;
            }
            case 'd': // DICT
            {
                var items = PopMark(at);
                var dict = new PickleDict();
                SetItems(dict, items, at);
                Push(dict);
                break;
            }
            case 's': // SETITEM
            {
                object? value = Pop(at);
                object? key = Pop(at);
                Peek<PickleDict>("SETITEM", at).Set(key, value);
                break;
            }
            case 'u': // SETITEMS
            {
                var items = PopMark(at);
                SetItems(Peek<PickleDict>("SETITEMS", at), items, at);
                break;
            }
            case 'c': // GLOBAL: "module\nname\n"
            {
                string module = ReadLine(at);
                string name = ReadLine(at);
                Push(ResolveGlobal(module, name, at));
                break;
            }
            case 0x93: // STACK_GLOBAL
            {
                string name = PopAs<string>("STACK_GLOBAL name", at);
                string module = PopAs<string>("STACK_GLOBAL module", at);
                Push(ResolveGlobal(module, name, at));
                break;
            }
            case 'R': // REDUCE
            {
                object?[] args = PopAs<object?[]>("REDUCE arguments", at);
                Push(Call(Pop(at), args, "REDUCE", at));
                break;
            }
            case 0x81: // NEWOBJ: cls.__new__(cls, *args); for allow-listed classes that is the same as a call.
            {
                object?[] args = PopAs<object?[]>("NEWOBJ arguments", at);
                Push(Call(Pop(at), args, "NEWOBJ", at));
                break;
            }
            case 'b': // BUILD
                Build(Pop(at), at);
                break;
            case 'Q': // BINPERSID
                Push(persistentLoad(Pop(at)));
                break;
            case 'P': // PERSID (protocol 0: the id is a text line)
                Push(persistentLoad(ReadLine(at)));
                break;
            case 'q': // BINPUT
                _memo[ReadByte()] = Peek(at);
                break;
            case 'r': // LONG_BINPUT
                _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, at))] = Peek(at);
                break;
            case 'p': // PUT
                _memo[ReadMemoIndex(at)] = Peek(at);
                break;
            case 0x94: // MEMOIZE
                _memo[_memo.Count] = Peek(at);
                break;
            case 'h': // BINGET
                Push(MemoGet(ReadByte(), at));
                break;
            case 'j': // LONG_BINGET
                Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4, at)), at));
                break;
            case 'g': // GET
                Push(MemoGet(ReadMemoIndex(at), at));
                break;
            case '0': // POP
                if (_marks.Count > 0 && _marks[^1] == _stack.Count)
                {
                    _marks.RemoveAt(_marks.Count - 1);
                }
                else
                {
                    Pop(at);
                }
                break;
            case '1': // POP_MARK
                PopMark(at);
                break;
            case '2': // DUP
                Push(Peek(at));
                break;
            default:
                throw Error($"unsupported pickle opcode 0x{opcode:x2}{DescribePrintable(opcode)}", at);
        }
    }

    private object ResolveGlobal(string module, string name, long at)
    {
        try
        {
            return resolveGlobal(module, name);
        }
        catch (CheckpointFormatException e)
        {
            throw Error(e.Message, at);
        }
    }

    private object? Call(object? callable, object?[] args, string opcode, long at)
    {
        if (callable is not IPickleCallable function)
        {
            throw Error($"{opcode} on {Describe(callable)}, which is not an allowed callable", at);
        }
        try
        {
            return function.Call(args);
        }
        catch (CheckpointFormatException e)
        {
            throw Error($"{function.QualifiedName}: {e.Message}", at);
        }
    }

    /// <summary>
    /// BUILD sets an object's state. Only dicts receive it in state dicts: an OrderedDict's state is its
    /// attribute dict (the <c>_metadata</c> versions of each module), which holds no weights, so it is dropped.
    /// </summary>
    private void Build(object? state, long at)
    {
        object? target = Peek(at);
        if (target is not PickleDict)
        {
            throw Error($"BUILD on {Describe(target)} is not supported (state {Describe(state)})", at);
        }
    }

    private void SetItems(PickleDict dict, List<object?> items, long at)
    {
        if (items.Count % 2 != 0)
        {
            throw Error($"SETITEMS with an odd number of items ({items.Count})", at);
        }
        for (int i = 0; i < items.Count; i += 2)
        {
            dict.Set(items[i], items[i + 1]);
        }
    }

    private object? MemoGet(long index, long at) => _memo.TryGetValue(index, out var value)
        ? value
        : throw Error($"memo entry {index} is read before it was stored", at);

    private void Push(object? value) => _stack.Add(value);

    private object? Peek(long at) => _stack.Count > CurrentMarkFloor()
        ? _stack[^1]
        : throw Error("the stack is empty", at);

    private T Peek<T>(string opcode, long at) => Peek(at) is T typed
        ? typed
        : throw Error($"{opcode} expects a {typeof(T).Name} on the stack, found {Describe(Peek(at))}", at);

    private object? Pop(long at)
    {
        if (_stack.Count <= CurrentMarkFloor())
        {
            throw Error("the stack is empty", at);
        }
        object? value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private T PopAs<T>(string what, long at) => Pop(at) is T typed
        ? typed
        : throw Error($"{what} must be a {typeof(T).Name}", at);

    private object?[] PopMany(int count, long at)
    {
        if (_stack.Count - CurrentMarkFloor() < count)
        {
            throw Error($"needs {count} stack items, has {_stack.Count - CurrentMarkFloor()}", at);
        }
        var items = _stack.GetRange(_stack.Count - count, count).ToArray();
        _stack.RemoveRange(_stack.Count - count, count);
        return items;
    }

    private List<object?> PopMark(long at)
    {
        if (_marks.Count == 0)
        {
            throw Error("no MARK to pop to", at);
        }
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    /// <summary>Items below the innermost MARK belong to an outer construct and must not be consumed.</summary>
    private int CurrentMarkFloor() => _marks.Count > 0 ? _marks[^1] : 0;

    private int ReadByte()
    {
        int value = stream.ReadByte();
        if (value < 0)
        {
            throw Error("the pickle ends before its STOP opcode (truncated file?)", _offset);
        }
        if (++_offset > MaxPickleBytes)
        {
            throw Error($"the pickle is longer than {MaxPickleBytes} bytes, far more than a weights checkpoint needs", _offset);
        }
        return value;
    }

    private byte[] ReadBytes(long count, long at)
    {
        if (count > MaxFieldBytes)
        {
            throw Error($"a field of {count} bytes is longer than any name or number in a weights checkpoint (at most {MaxFieldBytes})", at);
        }
        if (_offset + count > MaxPickleBytes)
        {
            throw Error($"the pickle is longer than {MaxPickleBytes} bytes, far more than a weights checkpoint needs", at);
        }
        if (count > RemainingBytes())
        {
            throw Error($"a field of {count} bytes runs past the end of the data ({RemainingBytes()} bytes left)", at);
        }
        var buffer = new byte[count];
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw Error($"the pickle ends inside a field of {count} bytes (truncated file?)", at);
        }
        _offset += count;
        return buffer;
    }

    /// <summary>Guards length prefixes, so a corrupt length fails fast instead of allocating gigabytes.</summary>
    private long RemainingBytes() => stream.CanSeek ? stream.Length - stream.Position : Array.MaxLength;

    private long ReadLength(int width, long at)
    {
        var bytes = ReadBytes(width, at);
        long length = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadInt64LittleEndian(bytes);
        if (length < 0)
        {
            throw Error($"length {length} is not a valid field length", at);
        }
        return length;
    }

    private long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(ReadBytes(8, _offset));

    /// <summary>LONG1/LONG4: little-endian two's complement of any width; 64-bit values stay <c>long</c>.</summary>
    private object ReadLong(long byteCount, long at)
    {
        if (byteCount > MaxIntegerBytes)
        {
            throw Error($"an integer of {byteCount} bytes is wider than any shape, stride or offset (at most {MaxIntegerBytes})", at);
        }
        var bytes = ReadBytes(byteCount, at);
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    private string ReadLine(long at)
    {
        var bytes = new List<byte>();
        while (true)
        {
            int b = ReadByte();
            if (b == '\n')
            {
                return Encoding.UTF8.GetString(bytes.ToArray());
            }
            if (bytes.Count > 4096)
            {
                throw Error("a text line longer than 4096 bytes", at);
            }
            bytes.Add((byte)b);
        }
    }

    /// <summary>
    /// PUT and GET (protocol 0) take the memo index as a decimal line. ParseTextInt also yields bool ("00", "01") and
    /// BigInteger, which a plain cast turned into an InvalidCastException: only a 64-bit integer is an index.
    /// </summary>
    private long ReadMemoIndex(long at) => ParseTextInt(ReadLine(at), at) switch
    {
        long index => index,
        bool flag => flag ? 1 : 0,
        var other => throw Error($"memo index {Describe(other)} is not a 64-bit integer", at),
    };

    private object ParseTextInt(string text, long at)
    {
        if (text == "00") return false;
        if (text == "01") return true;
        return BigInteger.TryParse(text, out var value)
            ? (value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value)
            : throw Error($"'{text}' is not an integer", at);
    }

    private CheckpointFormatException Error(string message, long at) =>
        new($"Pickle error at byte {_startPosition + at}: {message}.");

    private static string DescribePrintable(int opcode) => opcode is >= 0x20 and < 0x7f ? $" ('{(char)opcode}')" : "";

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"str '{Shorten(s)}'",
        IPickleCallable c => c.QualifiedName,
        TorchStorageType t => t.ToString(),
        object?[] t => $"a tuple of {t.Length}",
        List<object?> l => $"a list of {l.Count}",
        PickleDict d => $"a dict of {d.Count}",
        byte[] b => $"bytes of {b.Length}",
        BigInteger n => n.GetByteCount() > 8 ? $"an integer of {n.GetByteCount()} bytes" : $"int {n}",
        long or double or bool => $"{value.GetType().Name} {value}",
        _ => value.GetType().Name,
    };

    /// <summary>Messages quote values from the file: a hostile file must not fill the message (or a log) with them.</summary>
    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + $"… ({text.Length} characters)";
}
