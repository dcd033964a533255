using System.Buffers.Binary;

namespace Atlas.Media.Input;

/// <summary>Reads the pixel size of JPEG and PNG files from their headers, without decoding.</summary>
internal static class ImageHeader
{
    public static (int Width, int Height)? TryReadSize(string path)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[(int)Math.Min(stream.Length, 256 * 1024)];
        stream.ReadExactly(buffer);
        return TryReadSize(buffer);
    }

    public static (int Width, int Height)? TryReadSize(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 24 && data[0] == 0x89 && data[1] == (byte)'P' && data.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            return ((int)BinaryPrimitives.ReadUInt32BigEndian(data[16..]), (int)BinaryPrimitives.ReadUInt32BigEndian(data[20..]));
        }

        if (data.Length >= 4 && data[0] == 0xFF && data[1] == 0xD8)
        {
            var i = 2;
            while (i + 9 < data.Length)
            {
                if (data[i] != 0xFF)
                {
                    return null;
                }

                var marker = data[i + 1];
                if (marker == 0xFF)
                {
                    i++;
                    continue;
                }

                var length = BinaryPrimitives.ReadUInt16BigEndian(data[(i + 2)..]);
                var isStartOfFrame = marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC);
                if (isStartOfFrame)
                {
                    return (BinaryPrimitives.ReadUInt16BigEndian(data[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(data[(i + 5)..]));
                }

                i += 2 + length;
            }
        }

        return null;
    }
}
