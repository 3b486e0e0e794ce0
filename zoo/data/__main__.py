import sys

from zoo.data import main

sys.exit(main())
