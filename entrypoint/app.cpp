#include "app.hpp"

namespace esetcd {

int runApp(int, char**) { return 0; }

}  // namespace esetcd
