using System.ComponentModel;

namespace Mmcp.Server.Runtime;

/// <summary>An argument could not be bound: it is missing, null or of the wrong JSON type. Thrown and caught by generated code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ArgumentBindingException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="ArgumentBindingException"/> class.</summary>
    public ArgumentBindingException()
        : this("argument", "is invalid")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ArgumentBindingException"/> class.</summary>
    /// <param name="message">The message.</param>
    public ArgumentBindingException(string message)
        : base(message)
    {
        ArgumentPath = string.Empty;
    }

    /// <summary>Initializes a new instance of the <see cref="ArgumentBindingException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ArgumentBindingException(string message, Exception innerException)
        : base(message, innerException)
    {
        ArgumentPath = string.Empty;
    }

    /// <summary>Initializes a new instance of the <see cref="ArgumentBindingException"/> class.</summary>
    /// <param name="argumentPath">The argument and the path inside it, for example <c>point.x</c> or <c>items[2]</c>.</param>
    /// <param name="problem">What is wrong, as the end of a sentence ("must be a string, not the number 3").</param>
    public ArgumentBindingException(string argumentPath, string problem)
        : base($"'{argumentPath}' {problem}")
    {
        ArgumentPath = argumentPath;
    }

    /// <summary>Gets the argument and the path inside it.</summary>
    public string ArgumentPath { get; }
}
