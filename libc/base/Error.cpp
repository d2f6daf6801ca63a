// Error.cpp: descriptions for Error codes.
#include "libc/base/Error.h"

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
