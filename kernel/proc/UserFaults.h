// UserFaults.h: faults raised in ring 3 (see UserFaults.cpp).
#pragma once

namespace user_faults {
void initialize();
}
