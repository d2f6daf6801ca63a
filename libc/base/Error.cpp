// Error.cpp: descriptions and names for Error codes, explained errors, and the panic behind ErrorOr's checks.
#include "libc/base/Error.h"

#include "libc/base/Assert.h"
#include "libc/base/Format.h"

const char* error_string(Error error) {
    switch (error) {
    case Error::None: return "no error";
    case Error::NotPermitted: return "operation not permitted";
    case Error::NoEntry: return "no such file or entry";
    case Error::NoProcess: return "no such process";
    case Error::Interrupted: return "interrupted";
    case Error::IO: return "input/output error";
    case Error::TooBig: return "argument list too long";
    case Error::BadExecutable: return "not a valid executable";
    case Error::BadFile: return "bad file descriptor";
    case Error::NoChild: return "no child process";
    case Error::TryAgain: return "resource temporarily unavailable";
    case Error::NoMemory: return "out of memory";
    case Error::AccessDenied: return "permission denied";
    case Error::BadAddress: return "bad address";
    case Error::Busy: return "busy";
    case Error::Exists: return "already exists";
    case Error::NoDevice: return "no such device";
    case Error::Invalid: return "invalid argument";
    case Error::NoSpace: return "no space left";
    case Error::OutOfRange: return "out of range";
    case Error::NotImplemented: return "not implemented";
    }
    return "unknown error";
}

const char* error_name(Error error) {
    switch (error) {
    case Error::None: return "None";
    case Error::NotPermitted: return "NotPermitted";
    case Error::NoEntry: return "NoEntry";
    case Error::NoProcess: return "NoProcess";
    case Error::Interrupted: return "Interrupted";
    case Error::IO: return "IO";
    case Error::TooBig: return "TooBig";
    case Error::BadExecutable: return "BadExecutable";
    case Error::BadFile: return "BadFile";
    case Error::NoChild: return "NoChild";
    case Error::TryAgain: return "TryAgain";
    case Error::NoMemory: return "NoMemory";
    case Error::AccessDenied: return "AccessDenied";
    case Error::BadAddress: return "BadAddress";
    case Error::Busy: return "Busy";
    case Error::Exists: return "Exists";
    case Error::NoDevice: return "NoDevice";
    case Error::Invalid: return "Invalid";
    case Error::NoSpace: return "NoSpace";
    case Error::OutOfRange: return "OutOfRange";
    case Error::NotImplemented: return "NotImplemented";
    }
    return "unknown";
}

ExplainedError::ExplainedError(Error error, const char* format, ...) : code(error) {
    va_list args;
    va_start(args, format);
    set_reason(format, args);
    va_end(args);
}

void ExplainedError::set_reason(const char* format, va_list args) {
    vformat_to_buffer(reason, sizeof(reason), format, args);
}

void error_or_misuse(const char* what, Error code) {
    if (code == Error::None) mneme_panic("ErrorOr: %s", what);
    mneme_panic("ErrorOr: %s of an error: %s (%s)", what, error_name(code), error_string(code));
}
