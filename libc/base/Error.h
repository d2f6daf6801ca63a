// Error.h: expected failures as values.
//
// An `Error` is an errno-style code (the numbers match Linux i386, so a system call can return `-code`
// unchanged). `ErrorOr<T>` holds either a T or an Error; `TRY(expr)` returns the error from the enclosing
// function, like SerenityOS's AK::ErrorOr. Broken invariants are not errors: they are VERIFY panics
// (Assert.h), and so is asking an ErrorOr for what it does not hold: value() or release_value() of an error,
// error() of a value.
//
// Where a person will read the failure (exec's "not an ELF file"), the error is an `ExplainedError`: the
// code and a sentence saying why, `ErrorOr<T, ExplainedError>`. That is the one error channel: the code goes
// wherever an Error goes (a system call returns -code), the reason goes with it. An ExplainedError is made
// from a bare Error implicitly (no reason: what() falls back to error_string), so TRY works from a plain
// ErrorOr into an explained one; the other way round the reason would be lost, so it does not compile.
#pragma once

#include <stdarg.h>

#include <new>
#include <type_traits>
#include <utility>

#include "libc/base/Types.h"

enum class Error : int {
    None = 0,
    NotPermitted = 1,     // EPERM
    NoEntry = 2,          // ENOENT
    NoProcess = 3,        // ESRCH
    Interrupted = 4,      // EINTR
    IO = 5,               // EIO
    TooBig = 7,           // E2BIG
    BadExecutable = 8,    // ENOEXEC
    BadFile = 9,          // EBADF
    NoChild = 10,         // ECHILD
    TryAgain = 11,        // EAGAIN
    NoMemory = 12,        // ENOMEM
    AccessDenied = 13,    // EACCES
    BadAddress = 14,      // EFAULT
    Busy = 16,            // EBUSY
    Exists = 17,          // EEXIST
    NoDevice = 19,        // ENODEV
    Invalid = 22,         // EINVAL
    NoSpace = 28,         // ENOSPC
    OutOfRange = 34,      // ERANGE
    NotImplemented = 38,  // ENOSYS
};

// A short lower-case description, for messages ("out of memory").
const char* error_string(Error error);
// The enumerator's name, for panics and tests ("NoMemory"); "Error(N)" style text is not produced: an
// unknown code gives "unknown".
const char* error_name(Error error);

// An error code and, where a person will read it, why ("not an ELF file (no \x7fELF magic)"). The reason
// is a fixed buffer, so making one never allocates (exec fails this way when memory is short). It is 200
// bytes, so on the kernel's small stacks make it in place: in a function returning
// `using Result = ErrorOr<T, ExplainedError>`, `return Result(Error::BadExecutable, "segment %u ...", i);`
// formats straight into the returned object, where `return ExplainedError(...)` costs a temporary, and GCC
// gives each return statement's temporary its own stack slot.
struct ExplainedError {
    static constexpr u32 kReasonSize = 200;

    Error code = Error::None;
    char reason[kReasonSize];  // NUL-terminated; empty: no explanation beyond the code

    ExplainedError() { reason[0] = '\0'; }
    ExplainedError(Error error) : code(error) { reason[0] = '\0'; }
    // An error whose reason is the formatted text (cut to fit).
    ExplainedError(Error error, const char* format, ...) __attribute__((format(printf, 3, 4)));

    void set_reason(const char* format, va_list args);
    // The reason, or error_string(code) when there is none: always something to print.
    const char* what() const { return reason[0] ? reason : error_string(code); }
};

// The code of either kind of error, for code that handles both.
constexpr Error error_code(Error error) { return error; }
constexpr Error error_code(const ExplainedError& error) { return error.code; }

// The panic behind ErrorOr's checks: out of line and cold, so the success path is one test and branch (and
// none where the compiler sees is_error() was already tested, as in TRY).
[[noreturn, gnu::cold]] void error_or_misuse(const char* what, Error code);

template <typename T, typename E = Error>
class [[nodiscard]] ErrorOr {
    static_assert(!std::is_reference_v<T>, "ErrorOr holds values; use a pointer");
    static constexpr bool kTrivial = std::is_trivially_copyable_v<T> && std::is_trivially_copyable_v<E> &&
                                     std::is_trivially_destructible_v<T> && std::is_trivially_destructible_v<E>;

public:
    ErrorOr(const T& value) : m_value(value), m_has_value(true) {}
    ErrorOr(T&& value) : m_value(std::move(value)), m_has_value(true) {}
    ErrorOr(const E& error) : m_error(error), m_has_value(false) { check_error(); }
    ErrorOr(Error code) requires(!std::is_same_v<E, Error>) : m_error(code), m_has_value(false) { check_error(); }
    // An explained error made in place (see ExplainedError).
    [[gnu::format(printf, 3, 4)]] ErrorOr(Error code, const char* format, ...) : m_error(code), m_has_value(false) {
        static_assert(std::is_same_v<E, ExplainedError>, "only an ExplainedError has a reason");
        va_list args;
        va_start(args, format);
        m_error.set_reason(format, args);
        va_end(args);
        check_error();
    }

    ErrorOr(const ErrorOr& other) requires kTrivial = default;
    ErrorOr(const ErrorOr& other) : m_has_value(other.m_has_value) {
        if (m_has_value)
            new (&m_value) T(other.m_value);
        else
            new (&m_error) E(other.m_error);
    }
    ErrorOr(ErrorOr&& other) requires kTrivial = default;
    ErrorOr(ErrorOr&& other) : m_has_value(other.m_has_value) {
        if (m_has_value)
            new (&m_value) T(std::move(other.m_value));
        else
            new (&m_error) E(std::move(other.m_error));
    }
    ErrorOr& operator=(const ErrorOr&) = delete;
    ~ErrorOr() requires kTrivial = default;
    ~ErrorOr() {
        if (m_has_value)
            m_value.~T();
        else
            m_error.~E();
    }

    bool is_error() const { return !m_has_value; }
    const E& error() const {
        if (m_has_value) [[unlikely]]
            error_or_misuse("error() of an ErrorOr that holds a value", Error::None);
        return m_error;
    }
    T& value() {
        check_value("value()");
        return m_value;
    }
    const T& value() const {
        check_value("value()");
        return m_value;
    }
    T release_value() {
        check_value("release_value()");
        return std::move(m_value);
    }

private:
    void check_value(const char* what) const {
        if (!m_has_value) [[unlikely]]
            error_or_misuse(what, error_code(m_error));
    }
    void check_error() const {
        if (error_code(m_error) == Error::None) [[unlikely]]
            error_or_misuse("an ErrorOr made from Error::None", Error::None);
    }

    union {
        T m_value;
        E m_error;
    };
    bool m_has_value;
};

template <typename E>
class [[nodiscard]] ErrorOr<void, E> {
public:
    ErrorOr() : m_is_error(false) {}
    ErrorOr(const E& error) : m_error(error), m_is_error(true) { check_error(); }
    ErrorOr(Error code) requires(!std::is_same_v<E, Error>) : m_error(code), m_is_error(true) { check_error(); }
    [[gnu::format(printf, 3, 4)]] ErrorOr(Error code, const char* format, ...) : m_error(code), m_is_error(true) {
        static_assert(std::is_same_v<E, ExplainedError>, "only an ExplainedError has a reason");
        va_list args;
        va_start(args, format);
        m_error.set_reason(format, args);
        va_end(args);
        check_error();
    }

    bool is_error() const { return m_is_error; }
    const E& error() const {
        if (!m_is_error) [[unlikely]]
            error_or_misuse("error() of an ErrorOr that holds a value", Error::None);
        return m_error;
    }
    void value() const { check_value("value()"); }
    void release_value() const { check_value("release_value()"); }

private:
    static_assert(std::is_trivially_copyable_v<E> && std::is_trivially_destructible_v<E>);
    void check_value(const char* what) const {
        if (m_is_error) [[unlikely]]
            error_or_misuse(what, error_code(m_error));
    }
    void check_error() const {
        if (error_code(m_error) == Error::None) [[unlikely]]
            error_or_misuse("an ErrorOr made from Error::None", Error::None);
    }

    union {
        E m_error;
    };
    bool m_is_error;
};

// Evaluate an ErrorOr expression; on error return it from the enclosing function, else yield the value.
#define TRY(expression)                                         \
    ({                                                          \
        auto _try_result = (expression);                        \
        if (_try_result.is_error()) return _try_result.error(); \
        _try_result.release_value();                            \
    })
