// ErrorTest.cpp: ErrorOr and ExplainedError (libc/base/Error.h): values and errors, TRY across both kinds,
// asking for what is not there panics with the error's name (death tests), names and descriptions of every
// code, and how a reason is formatted (in place, too) and cut.
#include <gtest/gtest.h>

#include <string>

#include "libc/base/Error.h"

namespace {

// Every code the kernel uses (the enum has gaps: Linux's numbers).
constexpr Error kAllErrors[] = {
    Error::NotPermitted, Error::NoEntry,       Error::NoProcess,  Error::Interrupted, Error::IO,
    Error::TooBig,       Error::BadExecutable, Error::BadFile,    Error::NoChild,     Error::TryAgain,
    Error::NoMemory,     Error::AccessDenied,  Error::BadAddress, Error::Busy,        Error::Exists,
    Error::NoDevice,     Error::Invalid,       Error::NoSpace,    Error::OutOfRange,  Error::NotImplemented,
};

ErrorOr<int> halve(int x) {
    if (x % 2) return Error::Invalid;
    return x / 2;
}

ErrorOr<int> quarter(int x) {
    int half = TRY(halve(x));
    return TRY(halve(half));
}

ErrorOr<void, ExplainedError> check_even(int x) {
    TRY(halve(x));  // a bare Error becomes an ExplainedError with no reason
    return {};
}

ErrorOr<int, ExplainedError> explained_quarter(int x) {
    TRY(check_even(x));
    int half = TRY(halve(x));
    if (half % 2) return ErrorOr<int, ExplainedError>(Error::Invalid, "%d is not a multiple of 4", x);
    return half / 2;
}

// A value that counts its live copies, to see that ErrorOr constructs and destroys what it holds.
struct Counted {
    static int live;
    int value;
    explicit Counted(int v) : value(v) { ++live; }
    Counted(const Counted& other) : value(other.value) { ++live; }
    Counted(Counted&& other) : value(other.value) { ++live; }
    ~Counted() { --live; }
};
int Counted::live = 0;

}  // namespace

TEST(ErrorOr, HoldsAValueOrAnError) {
    ErrorOr<int> value = 42;
    EXPECT_FALSE(value.is_error());
    EXPECT_EQ(value.value(), 42);
    EXPECT_EQ(value.release_value(), 42);

    ErrorOr<int> error = Error::NoMemory;
    EXPECT_TRUE(error.is_error());
    EXPECT_EQ(error.error(), Error::NoMemory);

    ErrorOr<void> ok;
    EXPECT_FALSE(ok.is_error());
    ok.value();
    ErrorOr<void> failed = Error::BadAddress;
    EXPECT_TRUE(failed.is_error());
    EXPECT_EQ(failed.error(), Error::BadAddress);
    ok = failed;  // ErrorOr<void> is assignable (exec accumulates steps in one)
    EXPECT_EQ(ok.error(), Error::BadAddress);
}

TEST(ErrorOr, SuccessCostsNothingExtra) {
    // Trivial payloads keep ErrorOr trivially copyable and destructible: no copy constructor or destructor
    // calls on the success path, and at most a flag beside the payload.
    static_assert(std::is_trivially_copyable_v<ErrorOr<int>>);
    static_assert(std::is_trivially_destructible_v<ErrorOr<int>>);
    static_assert(std::is_trivially_copyable_v<ErrorOr<void>>);
    static_assert(std::is_trivially_copyable_v<ErrorOr<int, ExplainedError>>);
    static_assert(sizeof(ErrorOr<u32>) == 2 * sizeof(u32));
    // The value and the explained error share their storage.
    static_assert(sizeof(ErrorOr<u32, ExplainedError>) <= sizeof(ExplainedError) + sizeof(u32));
    SUCCEED();
}

TEST(ErrorOr, ConstructsAndDestroysWhatItHolds) {
    {
        ErrorOr<Counted> held = Counted(7);
        EXPECT_EQ(Counted::live, 1);
        ErrorOr<Counted> copy = held;
        EXPECT_EQ(Counted::live, 2);
        EXPECT_EQ(copy.value().value, 7);
        Counted moved = copy.release_value();
        EXPECT_EQ(moved.value, 7);
        ErrorOr<Counted> error = Error::NoEntry;
        ErrorOr<Counted> error_copy = error;
        EXPECT_EQ(error_copy.error(), Error::NoEntry);
    }
    EXPECT_EQ(Counted::live, 0);
}

TEST(ErrorOr, TryReturnsTheFirstError) {
    EXPECT_EQ(quarter(12).value(), 3);
    EXPECT_EQ(quarter(7).error(), Error::Invalid);
    EXPECT_EQ(quarter(6).error(), Error::Invalid);  // the second TRY fails
}

TEST(ErrorOr, TryFromAPlainIntoAnExplainedError) {
    EXPECT_EQ(explained_quarter(8).value(), 2);
    auto odd = explained_quarter(3);
    ASSERT_TRUE(odd.is_error());
    EXPECT_EQ(odd.error().code, Error::Invalid);
    EXPECT_STREQ(odd.error().reason, "");                  // no reason given on the way
    EXPECT_STREQ(odd.error().what(), "invalid argument");  // so what() is the code's description
    auto six = explained_quarter(6);
    ASSERT_TRUE(six.is_error());
    EXPECT_STREQ(six.error().what(), "6 is not a multiple of 4");
}

TEST(ErrorOrDeathTest, ValueOfAnErrorPanicsWithItsName) {
    ErrorOr<int> error = Error::NoMemory;
    EXPECT_DEATH((void)error.value(), "ErrorOr: value\\(\\) of an error: NoMemory \\(out of memory\\)");
    EXPECT_DEATH((void)error.release_value(), "ErrorOr: release_value\\(\\) of an error: NoMemory");
    ErrorOr<void> void_error = Error::BadAddress;
    EXPECT_DEATH(void_error.release_value(), "release_value\\(\\) of an error: BadAddress \\(bad address\\)");
    ErrorOr<int, ExplainedError> explained(Error::BadExecutable, "bad magic");
    EXPECT_DEATH((void)explained.value(), "value\\(\\) of an error: BadExecutable");
}

TEST(ErrorOrDeathTest, ErrorOfAValuePanics) {
    ErrorOr<int> value = 1;
    EXPECT_DEATH((void)value.error(), "ErrorOr: error\\(\\) of an ErrorOr that holds a value");
    ErrorOr<void> ok;
    EXPECT_DEATH((void)ok.error(), "ErrorOr: error\\(\\) of an ErrorOr that holds a value");
}

TEST(ErrorOrDeathTest, AnErrorMustBeOne) {
    EXPECT_DEATH(ErrorOr<int>(Error::None), "ErrorOr: an ErrorOr made from Error::None");
    EXPECT_DEATH(ErrorOr<void>(Error::None), "an ErrorOr made from Error::None");
    EXPECT_DEATH((ErrorOr<int, ExplainedError>(ExplainedError())), "an ErrorOr made from Error::None");
}

TEST(Error, EveryCodeHasANameAndADescription) {
    for (Error e : kAllErrors) {
        std::string name = error_name(e);
        std::string text = error_string(e);
        EXPECT_NE(name, "unknown") << static_cast<int>(e);
        EXPECT_NE(text, "unknown error") << static_cast<int>(e);
        for (Error other : kAllErrors) {
            if (other == e) continue;
            EXPECT_NE(name, error_name(other));
            EXPECT_NE(text, error_string(other));
        }
    }
    EXPECT_STREQ(error_name(Error::NoMemory), "NoMemory");
    EXPECT_STREQ(error_name(Error::None), "None");
    EXPECT_STREQ(error_name(static_cast<Error>(99)), "unknown");
    EXPECT_STREQ(error_string(static_cast<Error>(99)), "unknown error");
    EXPECT_EQ(static_cast<int>(Error::BadExecutable), 8);  // ENOEXEC: a system call returns -8
}

TEST(ExplainedError, ReasonIsFormattedOrTheCodesDescription) {
    ExplainedError bare(Error::NoEntry);
    EXPECT_EQ(bare.code, Error::NoEntry);
    EXPECT_STREQ(bare.reason, "");
    EXPECT_STREQ(bare.what(), "no such file or entry");

    ExplainedError e(Error::BadExecutable, "not an ELF file (%s)", "bad magic");
    EXPECT_EQ(error_code(e), Error::BadExecutable);
    EXPECT_STREQ(e.what(), "not an ELF file (bad magic)");

    // Made in place inside an ErrorOr, with a value or without.
    ErrorOr<u32, ExplainedError> in_place(Error::NoMemory, "%s for a page directory", error_string(Error::NoMemory));
    ASSERT_TRUE(in_place.is_error());
    EXPECT_EQ(in_place.error().code, Error::NoMemory);
    EXPECT_STREQ(in_place.error().what(), "out of memory for a page directory");
    ErrorOr<void, ExplainedError> void_in_place(Error::TryAgain, "the process table is full (%u processes)", 64u);
    EXPECT_STREQ(void_in_place.error().what(), "the process table is full (64 processes)");
    ErrorOr<void, ExplainedError> from_code = Error::BadAddress;  // a bare code: no reason
    EXPECT_STREQ(from_code.error().what(), "bad address");
}

TEST(ExplainedError, LongReasonsAreCutNotOverrun) {
    std::string long_text(500, 'x');
    ExplainedError e(Error::TooBig, "context: %s", long_text.c_str());
    std::string reason = e.reason;
    EXPECT_EQ(reason.size(), ExplainedError::kReasonSize - 1u);
    EXPECT_EQ(reason.substr(0, 9), "context: ");
    ErrorOr<int, ExplainedError> in_place(Error::IO, "%s", long_text.c_str());
    EXPECT_EQ(std::string(in_place.error().reason), long_text.substr(0, ExplainedError::kReasonSize - 1));
}
