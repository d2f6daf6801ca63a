// Error.h: expected failures as values.
//
// An `Error` is an errno-style code (the numbers match Linux i386, so a system call can return `-code`
// unchanged). `ErrorOr<T>` holds either a T or an Error; `TRY(expr)` returns the error from the enclosing
// function, like SerenityOS's AK::ErrorOr. Broken invariants are not errors: they are VERIFY panics
// (Assert.h).
#pragma once

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

template <typename T>
class [[nodiscard]] ErrorOr {
public:
    ErrorOr(const T& value) : m_has_value(true) { new (&m_storage) T(value); }
    ErrorOr(T&& value) : m_has_value(true) { new (&m_storage) T(std::move(value)); }
    ErrorOr(Error error) : m_error(error) {}

    ErrorOr(const ErrorOr& other) : m_has_value(other.m_has_value), m_error(other.m_error) {
        if (m_has_value) new (&m_storage) T(other.value());
    }
    ErrorOr& operator=(const ErrorOr&) = delete;
    ~ErrorOr() {
        if (m_has_value) value().~T();
    }

    bool is_error() const { return !m_has_value; }
    Error error() const { return m_error; }
    T& value() { return *reinterpret_cast<T*>(&m_storage); }
    const T& value() const { return *reinterpret_cast<const T*>(&m_storage); }
    T release_value() { return std::move(value()); }

private:
    alignas(T) unsigned char m_storage[sizeof(T)];
    bool m_has_value = false;
    Error m_error = Error::None;
};

template <>
class [[nodiscard]] ErrorOr<void> {
public:
    ErrorOr() = default;
    ErrorOr(Error error) : m_error(error) {}
    bool is_error() const { return m_error != Error::None; }
    Error error() const { return m_error; }
    void release_value() {}

private:
    Error m_error = Error::None;
};

// Evaluate an ErrorOr expression; on error return it from the enclosing function, else yield the value.
#define TRY(expression)                                         \
    ({                                                          \
        auto _try_result = (expression);                        \
        if (_try_result.is_error()) return _try_result.error(); \
        _try_result.release_value();                            \
    })
