// The matmul/quant entry points the executor uses (implemented in matmul.cpp / quants.cpp).
#pragma once
#include "matmul.h"
